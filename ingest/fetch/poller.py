"""One poll of one mailbox: new UIDs are fetched, stored raw, then judged one by one."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from campaign.settings import MailboxSettings
from ingest.fetch.imap import ImapSession
from ingest.pipeline import Pipeline
from store.models import MailboxState, utcnow

log = logging.getLogger(__name__)
BATCH_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True, kw_only=True)
class PollReport:
    mailbox: str
    fetched: int
    statuses: dict[str, int]
    stopped: bool = False


def _batches(uids: list[int], sizes: dict[int, int], *, count: int, max_bytes: int) -> list[list[int]]:
    out: list[list[int]] = []
    batch: list[int] = []
    total = 0
    for uid in uids:
        size = sizes.get(uid, 0)
        if batch and (len(batch) >= count or total + size > max_bytes):
            out.append(batch)
            batch, total = [], 0
        batch.append(uid)
        total += size
    if batch:
        out.append(batch)
    return out


class Poller:
    """Polls mailboxes; the stop event is checked between messages (SIGTERM finishes the one in hand)."""

    def __init__(
        self, *, sessions: sessionmaker[Session], pipeline: Pipeline, stop: threading.Event | None = None
    ) -> None:
        self.sessions = sessions
        self.pipeline = pipeline
        self.stop = stop or threading.Event()

    def _state(self, name: str) -> MailboxState:
        with self.sessions.begin() as session:
            state = session.get(MailboxState, name)
            if state is None:
                state = MailboxState(mailbox=name, last_uid=0, consecutive_errors=0)
                session.add(state)
            return state

    def _save(self, name: str, **values: object) -> None:
        with self.sessions.begin() as session:
            state = session.get(MailboxState, name)
            assert state is not None
            for key, value in values.items():
                setattr(state, key, value)

    def poll(self, box: MailboxSettings) -> PollReport:
        """Fetch and judge everything new in box; connection errors are recorded, then raised."""
        state = self._state(box.name)
        statuses: dict[str, int] = {}
        fetched = 0
        try:
            with ImapSession(settings=box) as imap:
                last_uid = state.last_uid
                if state.uidvalidity != imap.uidvalidity:
                    if state.uidvalidity is not None:
                        log.warning(
                            "%s: UIDVALIDITY changed %s -> %s; rescanning (stored messages are not "
                            "fetched twice within one UIDVALIDITY)",
                            box.name,
                            state.uidvalidity,
                            imap.uidvalidity,
                        )
                    last_uid = 0
                    self._save(box.name, uidvalidity=imap.uidvalidity, last_uid=0)
                uids = imap.uids_after(last_uid)
                sizes = imap.sizes(uids)
                log.info("%s: %d new message(s)", box.name, len(uids))
                for batch in _batches(uids, sizes, count=box.fetch_batch, max_bytes=BATCH_BYTES):
                    if self.stop.is_set():
                        break
                    big = [u for u in batch if sizes.get(u, 0) > box.max_message_bytes]
                    raws = imap.fetch([u for u in batch if u not in big])
                    raws.update(imap.fetch_headers(big))
                    for uid in batch:
                        if self.stop.is_set():
                            break
                        raw = raws.pop(uid, None)
                        if raw is None:
                            log.warning("%s uid %d: vanished before it could be fetched", box.name, uid)
                            continue
                        fetched += 1
                        msg_id = self.pipeline.store_raw(
                            mailbox=box.name,
                            uidvalidity=imap.uidvalidity,
                            uid=uid,
                            raw=raw,
                            size=sizes.get(uid, len(raw)),
                            oversize=uid in big,
                            internaldate=imap.internaldates.get(uid),
                        )
                        if msg_id is not None:
                            status = self.pipeline.process(msg_id)
                            statuses[status.value] = statuses.get(status.value, 0) + 1
                        self._save(box.name, last_uid=uid)
            self._save(box.name, last_poll_at=utcnow(), last_ok_at=utcnow(), last_error=None, consecutive_errors=0)
        except Exception as exc:
            self._save(
                box.name,
                last_poll_at=utcnow(),
                last_error=f"{type(exc).__name__}: {exc}"[:2000],
                consecutive_errors=state.consecutive_errors + 1,
            )
            raise
        return PollReport(mailbox=box.name, fetched=fetched, statuses=statuses, stopped=self.stop.is_set())
