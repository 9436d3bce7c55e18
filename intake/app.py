"""The composition root: build every part once from the settings and hand them down."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from campaign.settings import MailboxSettings, Settings
from ingest.backlog import judge
from ingest.fetch.poller import Poller, PollFailed, PollReport
from ingest.judging import JudgePool
from ingest.mail import arrival
from ingest.mail.prescan import header_block_size
from ingest.pipeline import Pipeline
from intake.logformat import OneLineFormatter
from notify.render import Renderer
from notify.replies import SendReport, send_pending
from store.blobs import BlobStore, Stored
from store.db import make_engine, make_sessions
from store.enums import MessageStatus
from store.errors import one_line
from store.migrate import schema_problem
from store.models import Message, Worker
from store.watch import FileWatch, StoreVanished, watch_of
from store.workers import Heart, Locks, make_locks

log = logging.getLogger(__name__)
IMPORT_UIDVALIDITY = 0


def judge_processes(settings: Settings) -> int:
    """How many processes judge a large poll: as configured, else one per CPU (at most 4)."""
    if settings.service.judge_processes:
        return settings.service.judge_processes
    return min(os.cpu_count() or 1, 4)


def build_pipeline(settings: Settings, *, sessions: sessionmaker[Session], blobs: BlobStore) -> Pipeline:
    return Pipeline(
        settings=settings,
        sessions=sessions,
        blobs=blobs,
        renderer=Renderer(override_dir=settings.replies.templates_dir),
    )


def worker_pipeline(settings: Settings) -> Pipeline:
    """A judging process's own pipeline: its own connections, blob store and templates."""
    sessions = make_sessions(make_engine(settings.store.url, create=False))
    return build_pipeline(settings, sessions=sessions, blobs=BlobStore(root=settings.store.blob_dir))


def worker_logging(level: int) -> None:
    """A judging process logs as the command that started it does (one line each, to stderr)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(OneLineFormatter(tracebacks=level <= logging.INFO))
    logging.basicConfig(level=level, handlers=[handler])


class SchemaOutdated(RuntimeError):
    """The database is not at the schema this program needs; the text says which way and what to do."""


@dataclass(kw_only=True)
class App:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    blobs: BlobStore
    renderer: Renderer
    pipeline: Pipeline
    heart: Heart
    stop: threading.Event = field(default_factory=threading.Event)
    _locks: Locks | None = None
    _pool: JudgePool | None = None
    _pool_guard: threading.Lock = field(default_factory=threading.Lock)  # two mailboxes' polls start at once

    @classmethod
    def build(cls, settings: Settings, *, check_schema: bool = True) -> App:
        engine = make_engine(settings.store.url, create=False)  # only `intake db upgrade` creates a store
        try:
            problem = schema_problem(engine) if check_schema else None
            if problem is not None:
                raise SchemaOutdated(problem)
            blobs = BlobStore(root=settings.store.blob_dir)
        except BaseException:
            engine.dispose()
            raise
        sessions = make_sessions(engine)
        pipeline = build_pipeline(settings, sessions=sessions, blobs=blobs)
        heart = Heart(sessions=sessions, stale_seconds=settings.service.stale_seconds)
        return cls(
            settings=settings,
            engine=engine,
            sessions=sessions,
            blobs=blobs,
            renderer=pipeline.renderer,
            pipeline=pipeline,
            heart=heart,
        )

    @property
    def watch(self) -> FileWatch | None:
        """The SQLite database file's watch (None on PostgreSQL)."""
        return watch_of(self.engine)

    def store_gone(self) -> str | None:
        """Why the store can no longer be used (its file deleted or replaced), checked now; else None."""
        watch = self.watch
        if watch is None:
            return None
        try:
            watch.check()
        except StoreVanished as exc:
            return str(exc)
        return None

    @property
    def locks(self) -> Locks:
        """This worker's locks on mailboxes and on the leading role (made at first use)."""
        if self._locks is None:
            self._locks = make_locks(engine=self.engine, sessions=self.sessions, heart=self.heart)
        return self._locks

    def close(self) -> None:
        """Stop the judging processes, release the locks, retire the heartbeat row, close the database connections."""
        if self._pool is not None:
            self._pool.close()
            self._pool = None
        if self.watch is not None and self.watch.gone is not None:  # nothing to retire in a vanished store
            self.engine.dispose()
            return
        try:
            if self._locks is not None:
                self._locks.close()
            self.heart.retire()
        except Exception as exc:  # the database went away: the locks went with it
            log.warning("could not retire worker %s: %s", self.heart.id, one_line(exc))
        finally:
            self.engine.dispose()

    def poller(self) -> Poller:
        return Poller(sessions=self.sessions, pipeline=self.pipeline, stop=self.stop, pool=self.judge_pool())

    def judge_pool(self) -> JudgePool | None:
        """The judging processes for large polls (started at first use), or None: one CPU, or
        `[service] judge_processes = 1`."""
        with self._pool_guard:
            if self._pool is None:
                processes = judge_processes(self.settings)
                if processes > 1:
                    self._pool = JudgePool(
                        processes=processes, settings=self.settings, factory=worker_pipeline, log_setup=worker_logging
                    )
            return self._pool

    def holder(self, lock: str) -> str:
        """Who holds a lock, as far as the heartbeats tell (for messages)."""
        with self.sessions() as session:
            for w in session.scalars(select(Worker).where(Worker.beat_at >= self.heart.cutoff())):
                if lock in w.holds.split():
                    return f"worker {w.host} pid {w.pid}"
        return "another worker"

    def poll_box(self, box: MailboxSettings, *, keep_lock: bool = False) -> PollReport:
        """Poll one mailbox under its lock; a failure comes back in the report's error, never raised.

        The service keeps the lock (keep_lock) until it stops or dies; a one-off poll releases it.
        """
        lock = f"mailbox:{box.name}"
        self.heart.maybe_beat()
        if not self.locks.try_lock(lock):
            return PollReport(mailbox=box.name, fetched=0, statuses={}, skipped=f"polled by {self.holder(lock)}")
        try:
            self.heart.beat(" ".join(self.locks.held()))
            return self.poller().poll(box)
        except PollFailed as exc:
            return exc.report
        finally:
            if not keep_lock:
                self.locks.unlock(lock)

    def resume_box(self, box: MailboxSettings, *, keep_lock: bool = False) -> dict[str, int]:
        """Judge box's backlog under its lock (nothing when another worker holds it)."""
        lock = f"mailbox:{box.name}"
        if not self.locks.try_lock(lock):
            return {}
        try:
            return self.poller().resume(box)
        finally:
            if not keep_lock:
                self.locks.unlock(lock)

    def poll(self, mailbox: str | None = None) -> list[PollReport]:
        """Poll each mailbox (or one), whatever the others do."""
        boxes = [self.settings.mailbox(mailbox)] if mailbox else list(self.settings.mailboxes)
        return [self.poll_box(box) for box in boxes if not self.stop.is_set()]

    def send_replies(self) -> SendReport:
        return send_pending(
            sessions=self.sessions, settings=self.settings.smtp, heart=self.heart, safety=self.settings.safety
        )

    def import_file(self, *, mailbox: str, path: Path) -> tuple[int | None, MessageStatus | None]:
        """Store and judge one .eml file; the same message imported twice (or fetched too) is judged once.

        The file is copied into the blob store in pieces (never read whole); a file larger than the
        mailbox's max_message_bytes is kept as its header only, as a poll keeps it, and refused."""
        box = self.settings.mailbox(mailbox)
        size = path.stat().st_size
        oversize = size > box.max_message_bytes
        with path.open("rb") as fh:
            head = fh.read(arrival.HEADER_BYTES)
            fh.seek(0)
            if oversize:
                sha = hashlib.file_digest(fh, "sha256").hexdigest()
                header = head[: header_block_size(head)] + b"\r\n"
                stored = Stored(sha256=self.pipeline.blobs.put_bytes(header), size=len(header))
            else:
                stored = Stored(sha256=self.pipeline.blobs.put_file(fh), size=size)
                sha = stored.sha256
        uid = int(sha[:15], 16)
        arrived = arrival.of_file(head, now=dt.datetime.now(dt.UTC))  # Received:, else Date:, else now
        log.info("%s: arrival time %s from %s", path.name, arrived.at.isoformat(), arrived.source.value)
        msg_id = self.pipeline.store_raw(
            mailbox=mailbox,
            uidvalidity=IMPORT_UIDVALIDITY,
            uid=uid,
            raw=stored,
            size=size,
            oversize=oversize,
            arrival=arrived,
            started=True,
        )
        if msg_id is None:
            return None, None
        return msg_id, judge(self.pipeline, msg_id, max_attempts=self.settings.service.max_attempts, started=True)

    def rerun(self, ids: list[int], *, hold: str | None = None) -> dict[int, MessageStatus]:
        """Judge stored messages again from their raw bytes (never a second reply to an answered verdict);
        with hold a new reply is written but never sent, hold saying why."""
        return {i: self.pipeline.process(i, hold=hold) for i in ids}

    def failed_ids(self) -> list[int]:
        with self.sessions() as session:
            return list(
                session.scalars(select(Message.id).where(Message.status == MessageStatus.FAILED).order_by(Message.id))
            )
