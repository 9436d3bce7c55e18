"""One poll of one mailbox: the backlog judged, new UIDs fetched and stored one by one, then filed.

On a bad link a failed FETCH is retried on a new connection with half the batch, down to one
message, so that a cut loses at most the message in flight. Each batch's raw messages are made
durable by one flush of the blob store; each message is then stored (a `received` row, the
mailbox's last UID and its first start in one commit) and judged: here, or in a judging process
(`ingest.judging`) when the poll brings PARALLEL_FROM messages or more and there are processes.
A message over STREAM_BYTES is fetched alone, in pieces, straight into the blob store. The next
try starts after the last stored UID; the mailbox action (`after`: \\Seen or a move) is done only
once the outcome is committed.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from campaign.settings import MailboxSettings
from ingest.backlog import backlog, judge
from ingest.fetch.imap import ImapSession, LinkBroken
from ingest.judging import InFlight, JudgePool
from ingest.mail.parse import HEADERS_ONLY_BYTES, parse_headers_only
from ingest.pipeline import Pipeline
from store.blobs import Stored
from store.enums import MessageStatus
from store.errors import one_line
from store.killpoint import kill_point
from store.models import MailboxState, Message, utcnow

log = logging.getLogger(__name__)
BATCH_BYTES = 32 * 1024 * 1024
PARALLEL_FROM = 16  # new messages in one poll from which judging processes are used (when there are any)
STREAM_BYTES = 8 * 1024 * 1024  # a larger message is fetched in pieces into the blob store, never held whole
RECONNECTS = 12  # new connections after cuts within one poll, before the poll is given up
DECIDED = (MessageStatus.ACCEPTED, MessageStatus.REJECTED, MessageStatus.IGNORED)


@dataclass(frozen=True, kw_only=True)
class PollReport:
    mailbox: str
    fetched: int
    statuses: dict[str, int]
    stopped: bool = False
    resumed: int = 0  # messages of the backlog judged before fetching
    reconnects: int = 0  # connections opened again after a cut
    error: str | None = None  # the failure in one line, `host:port: what`; None when the poll succeeded
    skipped: str | None = None  # why the mailbox was not polled (another worker holds it)


@dataclass(kw_only=True)
class _Tally:
    fetched: int = 0
    resumed: int = 0
    reconnects: int = 0
    batch: int = 1  # messages per FETCH now: halved after a cut, doubled after a success
    statuses: dict[str, int] = field(default_factory=dict)

    def count(self, status: MessageStatus) -> None:
        self.statuses[status.value] = self.statuses.get(status.value, 0) + 1


class PollFailed(RuntimeError):
    """A poll that did not finish; the text is one line naming the server and the error."""

    def __init__(self, text: str, *, report: PollReport) -> None:
        super().__init__(text)
        self.report = report


def backoff_delay(failures: int, *, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Seconds to wait after the nth failure in a row: base doubled each time, jittered, at most cap."""
    full = min(cap, base * 2 ** min(max(failures - 1, 0), 30))
    return float(min(cap, full / 2 + (rng or random).uniform(0, full / 2)))


def _batch(uids: Sequence[int], sizes: dict[int, int], *, count: int, max_bytes: int) -> list[int]:
    batch: list[int] = []
    total = 0
    for uid in uids:
        size = sizes.get(uid, 0)
        if batch and (len(batch) >= count or total + size > max_bytes):
            break
        batch.append(uid)
        total += size
    return batch


class Poller:
    """Polls mailboxes; the stop event is checked between messages (SIGTERM finishes the one in hand)."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        pipeline: Pipeline,
        stop: threading.Event | None = None,
        pool: JudgePool | None = None,
    ) -> None:
        self.sessions = sessions
        self.pipeline = pipeline
        self.pool = pool  # judging processes, for a poll that brings PARALLEL_FROM messages or more
        self.stop = stop or threading.Event()
        self.service = pipeline.settings.service

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

    def resume(self, box: MailboxSettings) -> dict[str, int]:
        """Judge what box's messages left `received` (or `failed` with tries left), oldest first."""
        tally = _Tally()
        for msg_id in backlog(self.sessions, mailbox=box.name, max_attempts=self.service.max_attempts):
            if self.stop.is_set():
                break
            tally.count(judge(self.pipeline, msg_id, max_attempts=self.service.max_attempts))
        return tally.statuses

    def poll(self, box: MailboxSettings) -> PollReport:
        """Judge the backlog, fetch and judge everything new; a failure is recorded, then raised as PollFailed."""
        self._state(box.name)
        tally = _Tally()
        try:
            for status, n in self.resume(box).items():
                tally.statuses[status] = tally.statuses.get(status, 0) + n
                tally.resumed += n
            self._fetch(box, tally)
        except Exception as exc:
            state = self._state(box.name)
            errors = state.consecutive_errors + 1
            delay = backoff_delay(errors, base=self.service.backoff_seconds, cap=self.service.backoff_max_seconds)
            text = f"{box.host}:{box.port}: {one_line(exc)}"
            self._save(
                box.name,
                last_poll_at=utcnow(),
                last_error=one_line(exc)[:2000],
                last_host=f"{box.host}:{box.port}",
                consecutive_errors=errors,
                retry_at=utcnow() + dt.timedelta(seconds=delay),
            )
            report = PollReport(
                mailbox=box.name,
                fetched=tally.fetched,
                statuses=tally.statuses,
                resumed=tally.resumed,
                reconnects=tally.reconnects,
                error=text,
            )
            raise PollFailed(text, report=report) from exc
        self._save(
            box.name,
            last_poll_at=utcnow(),
            last_ok_at=utcnow(),
            last_error=None,
            last_host=f"{box.host}:{box.port}",
            consecutive_errors=0,
            retry_at=None,
        )
        return PollReport(
            mailbox=box.name,
            fetched=tally.fetched,
            statuses=tally.statuses,
            stopped=self.stop.is_set(),
            resumed=tally.resumed,
            reconnects=tally.reconnects,
        )

    def _fetch(self, box: MailboxSettings, tally: _Tally) -> None:
        """Connections until everything new is stored; after a cut, a new one with half the batch."""
        tally.batch = box.fetch_batch
        while True:
            try:
                self._connection(box, tally)
                return
            except LinkBroken as exc:
                if tally.reconnects >= RECONNECTS or self.stop.is_set():
                    raise
                tally.reconnects += 1
                tally.batch = max(1, tally.batch // 2)
                wait = backoff_delay(tally.reconnects, base=0.2, cap=5.0)
                log.info("%s: %s; reconnecting in %.1fs, %d per FETCH", box.name, one_line(exc), wait, tally.batch)
                if self.stop.wait(wait):
                    return

    def _connection(self, box: MailboxSettings, tally: _Tally) -> None:
        session = ImapSession(settings=box, timeout=self.service.imap_timeout_seconds, readonly=box.after == "keep")
        try:
            session.__enter__()
        except OSError as exc:
            if tally.reconnects:  # connecting again after a cut: part of the same bad link
                raise LinkBroken(one_line(exc)) from exc
            raise  # the server cannot be reached at all: the poll fails, a later one tries again
        imap = session
        inflight: InFlight | None = None
        try:
            state = self._state(box.name)
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
            self._file(box, imap)
            uids = imap.uids_after(last_uid)
            if not uids:
                return
            sizes = imap.sizes(uids)
            log.info("%s: %d new message(s)", box.name, len(uids))
            if self.pool is not None and len(uids) >= PARALLEL_FROM:
                inflight = InFlight(pool=self.pool, count=tally.count)
            while uids and not self.stop.is_set():
                batch = _batch(uids, sizes, count=tally.batch, max_bytes=BATCH_BYTES)
                big = {u for u in batch if sizes.get(u, 0) > box.max_message_bytes}
                piecewise = {u for u in batch if u not in big and sizes.get(u, 0) > STREAM_BYTES}
                fetched = imap.fetch([u for u in batch if u not in big | piecewise])
                fetched.update(imap.fetch_headers(big))
                kill_point("fetched")
                raws = self._keep(fetched)
                for uid in batch:
                    if self.stop.is_set():
                        break
                    raw = self._piecewise(imap, uid) if uid in piecewise else raws.pop(uid, None)
                    msg_id = self._take(box, imap, uid, raw, size=sizes.get(uid), oversize=uid in big, tally=tally)
                    if msg_id is not None and raw is not None:
                        self._judge(msg_id, raw, inflight, tally)
                uids = uids[len(batch) :]
                tally.batch = min(box.fetch_batch, tally.batch * 2)  # the link held: grow back
                self._file(box, imap)
            if inflight is not None:
                inflight.drain()
                self._file(box, imap)
        finally:
            if inflight is not None:
                inflight.drain()  # what the processes have in hand is finished, whatever happened here
            session.__exit__(None, None, None)

    def _judge(self, msg_id: int, raw: bytes | Stored, inflight: InFlight | None, tally: _Tally) -> None:
        """Judge a message just stored: here, or in a judging process while fetching goes on."""
        if inflight is None:
            tally.count(judge(self.pipeline, msg_id, max_attempts=self.service.max_attempts, started=True))
            return
        head = (
            raw[:HEADERS_ONLY_BYTES]
            if isinstance(raw, bytes)
            else self.pipeline.blobs.read_head(raw.sha256, HEADERS_ONLY_BYTES)
        )
        kill_point("judging")  # the crash tests' stage is the poller's, wherever the judging happens
        inflight.add(msg_id, sender=parse_headers_only(head).sender)

    def _keep(self, fetched: dict[int, bytes]) -> dict[int, bytes | Stored]:
        """A batch's raw messages into the blob store, made durable by one flush for all."""
        blobs = self.pipeline.blobs
        kept: dict[int, bytes | Stored] = {
            uid: Stored(sha256=blobs.put_bytes(raw, sync=False), size=len(raw)) for uid, raw in fetched.items()
        }
        blobs.sync()
        return kept

    def _piecewise(self, imap: ImapSession, uid: int) -> Stored | None:
        """A large message fetched in pieces straight into the blob store (None when it vanished)."""
        with self.pipeline.blobs.writer() as out:
            if not imap.fetch_into(uid, out):
                return None
            kill_point("fetched")
            return Stored(sha256=out.finish(), size=out.size)

    def _take(
        self,
        box: MailboxSettings,
        imap: ImapSession,
        uid: int,
        raw: bytes | Stored | None,
        *,
        size: int | None,
        oversize: bool,
        tally: _Tally,
    ) -> int | None:
        """Store one fetched message with the mailbox's cursor and its first start in one commit; its id
        when it is new (to be judged now)."""
        if raw is None:
            log.warning("%s uid %d: vanished before it could be fetched", box.name, uid)
            self._save(box.name, last_uid=uid)
            return None
        tally.fetched += 1
        msg_id = self.pipeline.store_raw(
            mailbox=box.name,
            uidvalidity=imap.uidvalidity,
            uid=uid,
            raw=raw,
            size=size,
            oversize=oversize,
            internaldate=imap.internaldates.get(uid),
            cursor=box.name,
            started=True,
        )
        if msg_id is None:  # stored before (or by another worker at this moment)
            self._save(box.name, last_uid=uid)
            return None
        kill_point("stored")
        return msg_id

    def _file(self, box: MailboxSettings, imap: ImapSession) -> None:
        """The mailbox action for every message of this UIDVALIDITY whose outcome is committed."""
        if box.after == "keep":
            return
        with self.sessions() as session:
            rows = list(
                session.execute(
                    select(Message.id, Message.uid).where(
                        Message.mailbox == box.name,
                        Message.uidvalidity == imap.uidvalidity,
                        Message.status.in_(DECIDED),
                        Message.filed.is_(False),
                    )
                )
            )
        if not rows:
            return
        uids = [uid for _, uid in rows]
        try:
            if box.after == "seen":
                imap.mark_seen(uids)
            elif box.move_to:
                imap.move(uids, box.move_to)
        except LinkBroken:
            raise
        except Exception as exc:  # the server refused: keep the messages where they are, try next poll
            log.warning("%s: %s of %d message(s) failed: %s", box.name, box.after, len(uids), one_line(exc))
            return
        with self.sessions.begin() as session:
            for msg_id, _ in rows:
                msg = session.get(Message, msg_id)
                if msg is not None:
                    msg.filed = True
