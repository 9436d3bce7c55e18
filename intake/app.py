"""The composition root: build every part once from the settings and hand them down."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from campaign.settings import Settings
from ingest.fetch.poller import Poller, PollReport
from ingest.mail import arrival
from ingest.pipeline import Pipeline
from notify.render import Renderer
from notify.replies import SendReport, send_pending
from store.blobs import BlobStore
from store.db import make_engine, make_sessions
from store.enums import MessageStatus
from store.migrate import is_current
from store.models import Message

log = logging.getLogger(__name__)
IMPORT_UIDVALIDITY = 0


class SchemaOutdated(RuntimeError):
    """The database is not at the newest schema: run `intake db upgrade`."""


@dataclass(kw_only=True)
class App:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    blobs: BlobStore
    renderer: Renderer
    pipeline: Pipeline
    stop: threading.Event = field(default_factory=threading.Event)

    @classmethod
    def build(cls, settings: Settings, *, check_schema: bool = True) -> App:
        engine = make_engine(settings.store.url)
        if check_schema and not is_current(engine):
            engine.dispose()
            raise SchemaOutdated("the database schema is not up to date: run `intake db upgrade` first")
        sessions = make_sessions(engine)
        blobs = BlobStore(root=settings.store.blob_dir)
        renderer = Renderer(override_dir=settings.replies.templates_dir)
        pipeline = Pipeline(settings=settings, sessions=sessions, blobs=blobs, renderer=renderer)
        return cls(
            settings=settings, engine=engine, sessions=sessions, blobs=blobs, renderer=renderer, pipeline=pipeline
        )

    def poller(self) -> Poller:
        return Poller(sessions=self.sessions, pipeline=self.pipeline, stop=self.stop)

    def resume(self) -> int:
        """Judge messages stored but never judged (the process stopped in between); returns how many."""
        with self.sessions() as session:
            ids = list(
                session.scalars(select(Message.id).where(Message.status == MessageStatus.RECEIVED).order_by(Message.id))
            )
        for msg_id in ids:
            if self.stop.is_set():
                break
            self.pipeline.process(msg_id)
        return len(ids)

    def poll(self, mailbox: str | None = None) -> list[PollReport]:
        self.resume()
        boxes = [self.settings.mailbox(mailbox)] if mailbox else list(self.settings.mailboxes)
        poller = self.poller()
        return [poller.poll(box) for box in boxes if not self.stop.is_set()]

    def send_replies(self) -> SendReport:
        return send_pending(sessions=self.sessions, settings=self.settings.smtp)

    def import_file(self, *, mailbox: str, path: Path) -> tuple[int | None, MessageStatus | None]:
        """Store and judge one .eml file; the same message imported twice (or fetched too) is judged once."""
        self.settings.mailbox(mailbox)
        raw = path.read_bytes()
        uid = int(hashlib.sha256(raw).hexdigest()[:15], 16)
        arrived = arrival.of_file(raw, now=dt.datetime.now(dt.UTC))  # Received:, else Date:, else now
        log.info("%s: arrival time %s from %s", path.name, arrived.at.isoformat(), arrived.source.value)
        msg_id = self.pipeline.store_raw(
            mailbox=mailbox, uidvalidity=IMPORT_UIDVALIDITY, uid=uid, raw=raw, arrival=arrived
        )
        if msg_id is None:
            return None, None
        return msg_id, self.pipeline.process(msg_id)

    def rerun(self, ids: list[int]) -> dict[int, MessageStatus]:
        """Judge stored messages again from their raw bytes (never a second reply to an answered verdict)."""
        return {i: self.pipeline.process(i) for i in ids}

    def failed_ids(self) -> list[int]:
        with self.sessions() as session:
            return list(
                session.scalars(select(Message.id).where(Message.status == MessageStatus.FAILED).order_by(Message.id))
            )
