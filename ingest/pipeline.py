"""Judge one stored message: parse, classify, extract, validate, decide once, in one transaction.

The verdict, the attachments and the pending reply are written together; a failure (our
fault) rolls all of it back and records the stage and traceback instead, so the message can
be replayed from its raw bytes with `intake rerun`.
"""

from __future__ import annotations

import datetime as dt
import logging
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value

from campaign.notice import MailboxKind
from campaign.settings import Settings
from ingest import activities, resubmission, seen, supplement, thread
from ingest.answer import reply_context
from ingest.chain import Decision, decide, screen
from ingest.earlier import earlier_store_hold
from ingest.extract import Extractor
from ingest.inspect.facts import InspectLimits
from ingest.mail.arrival import Arrival, from_internaldate
from ingest.mail.links import LargeLink, find_links
from ingest.mail.parse import (
    HEADERS_ONLY_BYTES,
    ParsedMail,
    ParseLimitExceeded,
    ParseLimits,
    parse_file,
    parse_headers_only,
)
from ingest.roster import Roster
from ingest.rules.caps import reply_hold, suppress
from ingest.rules.case import Case
from ingest.rules.registration import role_of
from ingest.rules.subject import check_subject
from ingest.rules.trust import on_roster
from ingest.rules.views import FileView
from notify.quota import first_contact
from notify.render import Renderer
from notify.replies import new_reply
from store.blobs import BlobStore, Stored
from store.enums import MessageStatus, ReplyKind, Stage, WorkRole
from store.models import MailboxState, Message, utcnow
from store.watch import StoreVanished

log = logging.getLogger(__name__)


class _Stage:
    """Remembers which stage is running, for the failure record."""

    def __init__(self) -> None:
        self.current = Stage.PARSE

    @contextmanager
    def __call__(self, stage: Stage) -> Iterator[None]:
        self.current = stage
        yield


class Pipeline:
    """Stores raw messages and turns each into a verdict (and a pending reply)."""

    def __init__(
        self,
        *,
        settings: Settings,
        sessions: sessionmaker[Session],
        blobs: BlobStore,
        renderer: Renderer,
        parse_limits: ParseLimits = ParseLimits(),
        inspect_limits: InspectLimits = InspectLimits(),
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.blobs = blobs
        self.renderer = renderer
        self.parse_limits = parse_limits
        self.inspect_limits = inspect_limits
        self.roster = Roster(units=settings.units)
        self.extractor = Extractor(settings=settings, blobs=blobs, limits=inspect_limits)

    # -- storing -------------------------------------------------------------------------------

    def store_raw(
        self,
        *,
        mailbox: str,
        uidvalidity: int,
        uid: int,
        raw: bytes | Stored,
        size: int | None = None,
        oversize: bool = False,
        internaldate: dt.datetime | None = None,
        arrival: Arrival | None = None,
        cursor: str | None = None,
        started: bool = False,
    ) -> int | None:
        """Keep the raw bytes (or a blob stored already) and a RECEIVED row; None when (mailbox,
        UIDVALIDITY, UID) is known.

        The arrival time is the server's INTERNALDATE, or what an import read from the file; the
        time stored (received_at) is kept apart from it. With cursor (the mailbox's name) its last
        UID moves on in the same transaction; with started the row counts its first start already,
        for the caller that judges it at once: one commit instead of three."""
        stored = raw if isinstance(raw, Stored) else Stored(sha256=self.blobs.put_bytes(raw), size=len(raw))
        self.blobs.sync()  # a blob the caller left pending is durable before the row naming it commits
        arrived = arrival or from_internaldate(internaldate, now=dt.datetime.now(dt.UTC))
        try:
            with self.sessions.begin() as session:
                if cursor is not None:  # one statement, not a read and a write
                    session.execute(
                        update(MailboxState)
                        .where(MailboxState.mailbox == cursor, MailboxState.last_uid < uid)
                        .values(last_uid=uid)
                    )
                known = session.scalar(
                    select(Message.id).where(
                        Message.mailbox == mailbox, Message.uidvalidity == uidvalidity, Message.uid == uid
                    )
                )
                if known is not None:
                    return None
                row = Message(
                    mailbox=mailbox,
                    uidvalidity=uidvalidity,
                    uid=uid,
                    raw_sha256=stored.sha256,
                    raw_size=size if size is not None else stored.size,
                    oversize=oversize,
                    status=MessageStatus.RECEIVED,
                    reasons=[],
                    notes=[],
                    large_attachment_links=[],
                    attempts=0,
                    starts=1 if started else 0,
                    late=False,
                    arrived_at=arrived.at,
                    arrival_source=arrived.source,
                )
                session.add(row)
                session.flush()
                return row.id
        except IntegrityError:  # another worker stored it first
            return None

    # -- judging -------------------------------------------------------------------------------

    def process(self, message_id: int, *, again: bool = True, hold: str | None = None) -> MessageStatus:
        """Judge one stored message; an exception marks it FAILED with its stage and traceback.

        With hold (why, for the hosts) a new reply is written but never sent (`intake rerun --no-send`)."""
        stage = _Stage()
        try:
            with self.sessions.begin() as session, self.blobs.workdir() as workdir:
                msg = session.get(Message, message_id)
                if msg is None:
                    raise LookupError(f"no message with id {message_id}")
                status = self._judge(session, msg, stage, workdir=workdir, hold=hold)
                log.info("message %d (%s uid %d, %s): %s", msg.id, msg.mailbox, msg.uid, msg.message_id, status.value)
                return status
        except IntegrityError:
            # Another process judged and answered this message at the same moment (its reply row holds
            # the unique key): keep its verdict rather than calling the message failed.
            with self.sessions() as session:
                done = session.get(Message, message_id)
                if (
                    done is not None
                    and done.replies
                    and done.status in (MessageStatus.ACCEPTED, MessageStatus.REJECTED)
                ):
                    log.info("message %d was judged by another process meanwhile: %s", message_id, done.status.value)
                    return done.status
            return self._failed(message_id, stage)
        except StoreVanished:
            raise  # not this message's fault: nothing can be recorded anywhere
        except seen.ClaimedMeanwhile:
            if not again:
                return self._failed(message_id, stage)
            log.info("message %d: a copy was judged meanwhile; judging it again", message_id)
            return self.process(message_id, again=False, hold=hold)  # now found held: a duplicate
        except Exception:
            return self._failed(message_id, stage)

    def _failed(self, message_id: int, stage: _Stage) -> MessageStatus:
        """Record our fault: the stage and the traceback, so that `intake rerun` can replay the message."""
        tb = traceback.format_exc()
        log.exception("message %d failed in stage %s", message_id, stage.current.value)
        with self.sessions.begin() as session:
            msg = session.get(Message, message_id)
            if msg is not None:
                msg.status = MessageStatus.FAILED
                msg.failure_stage = stage.current
                msg.failure_traceback = tb
                msg.attempts += 1
                msg.decided_at = utcnow()
        return MessageStatus.FAILED

    def _judge(
        self, session: Session, msg: Message, stage: _Stage, *, workdir: Path, hold: str | None = None
    ) -> MessageStatus:
        if msg.attempts == 0 and msg.status is MessageStatus.RECEIVED:
            # never judged: nothing to load or clear (a query each, for every new message)
            set_committed_value(msg, "attachments", [])
            set_committed_value(msg, "replies", [])
        with session.no_autoflush:  # the row is written once, at the commit, not before each query
            status, key = self._judge_unflushed(session, msg, stage, workdir=workdir, hold=hold)
        if key is not None:
            seen.claim(session, msg, key)  # the first write: the database is locked only while committing
        return status

    def _judge_unflushed(
        self, session: Session, msg: Message, stage: _Stage, *, workdir: Path, hold: str | None = None
    ) -> tuple[MessageStatus, str | None]:
        """The verdict, and the identity to hold (None for a duplicate)."""
        box = self.settings.mailbox(msg.mailbox)
        msg.attempts += 1
        msg.failure_stage = None
        msg.failure_traceback = None
        if msg.attachments:
            msg.attachments.clear()
            session.flush()

        with stage(Stage.PARSE):
            if msg.raw_sha256 is None:
                raise LookupError("the raw message was never stored")
            raw = self.blobs.path(msg.raw_sha256)  # read from the file in pieces, never whole
            parse_error: ParseLimitExceeded | None = None
            try:
                mail = parse_file(raw, workdir=workdir, limits=self.parse_limits)
            except ParseLimitExceeded as exc:
                mail = parse_headers_only(self.blobs.read_head(msg.raw_sha256, HEADERS_ONLY_BYTES))
                parse_error = exc
            self._describe(msg, mail)
            key = seen.identity_of(msg, address=box.address, mail=mail, raw=raw)
            original = seen.holder(session, msg, key)
            if original is not None:  # a second delivery: recorded, never judged or answered again
                return seen.record_duplicate(msg, original), None

        with stage(Stage.CLASSIFY):
            ignored = screen(mail)
            if ignored is not None:
                return self._record(msg, ignored), key
            subject = check_subject(mail.subject, kind=box.kind, roster=self.roster)
            msg.unit = subject.unit
            msg.title = subject.title

        with stage(Stage.EXTRACT):
            unreadable = msg.oversize or parse_error is not None
            files = [] if unreadable else self.extractor.extract(session, msg, mail, workdir=workdir)
            self.blobs.sync()  # the files durable, in one flush, before the rows naming them commit
            links = find_links(mail.text, mail.html)
            msg.large_attachment_links = [link.as_dict() for link in links]

        with stage(Stage.CLASSIFY):  # an answer to one of our replies with nothing new: no verdict, no reply
            ours_named = None if unreadable else thread.answered(session, mail)  # our reply its headers name
            talk = (
                None
                if unreadable
                else thread.conversation(session, mail=mail, reply=ours_named, kind=box.kind, files=files, links=links)
            )
            if talk is not None:
                msg.unit = msg.unit or talk.unit
                return self._record(msg, talk.decision), key

        with stage(Stage.VALIDATE):
            registered = None
            if box.kind is not MailboxKind.OFFLINE_ACTIVITY:
                same_kind = [b.name for b in self.settings.mailboxes if b.kind is box.kind]
                shas = [a.sha256 for a in msg.attachments if a.valid]
                registered = seen.registered_work(session, msg, shas=shas, mailboxes=same_kind)
            ours = resubmission.in_thread(
                session, msg=msg, mail=mail, reply=ours_named, read=self._read_stored, workdir=workdir
            )
            case = Case(
                kind=box.kind,
                rules=self.settings.rules[box.kind],
                mail=mail,
                subject=subject,
                files=tuple(files),
                links=tuple(links),
                units=self.settings.units,
                authserv_id=box.authserv_id,
                deadline=box.deadline,
                arrived=msg.arrived_at.replace(tzinfo=dt.UTC),
                raw_size=msg.raw_size,
                max_message_bytes=box.max_message_bytes,
                oversize=msg.oversize,
                parse_error=parse_error,
                safety=self.settings.safety,
                reply_hold=lambda caps: reply_hold(session, msg=msg, raw=raw, settings=caps),
                registered=registered,
                answers_us=ours.answers_us,
                earlier=ours.earlier,
            )
            decision = decide(case)

        with stage(Stage.DECIDE):
            msg.late = case.late
            of = supplement.of_accepted(session, msg=msg, reply=ours_named, kind=box.kind, status=decision.status)
            decision = supplement.told(decision, of)
            self._record(msg, decision)
            accepted = decision.status is MessageStatus.ACCEPTED
            msg.work_role = role_of(box.kind, case.files, registered, subject.title) if accepted else None
            msg.work_of = (
                registered.message_id if accepted and registered and msg.work_role is not WorkRole.ORIGINAL else None
            )
            if box.kind is MailboxKind.OFFLINE_ACTIVITY and decision.status is MessageStatus.ACCEPTED:
                documents = activities.document_texts(files)
                statement = activities.statement_of(mail, subject=msg.subject, documents=documents, of=of)
                activities.record(session, message_id=msg.id, statement=statement)
            self._write_reply(session, msg, box.kind, decision, files, links, hold=hold)
            return decision.status, key

    # -- helpers -------------------------------------------------------------------------------

    def _read_stored(self, sha256: str, workdir: Path) -> ParsedMail:
        """Another stored message parsed again, within the same limits (an earlier mail in our thread)."""
        return parse_file(self.blobs.path(sha256), workdir=workdir, limits=self.parse_limits)

    def _describe(self, msg: Message, mail: ParsedMail) -> None:
        msg.message_id = mail.message_id[:998] if mail.message_id else None
        msg.sender = mail.sender
        msg.subject = mail.subject
        msg.raw_subject = mail.raw_subject
        msg.date_header = (mail.date or "")[:200] or None
        msg.references = mail.references

    def _record(self, msg: Message, decision: Decision) -> MessageStatus:
        msg.status = decision.status
        msg.reasons = decision.reasons
        msg.notes = list(decision.notes)
        msg.remarks = list(decision.remarks)
        for aside in decision.set_aside:  # passed as files, not registered as works
            msg.attachments[aside.index].counted = False
        msg.decided_at = utcnow()
        return decision.status

    def _write_reply(
        self,
        session: Session,
        msg: Message,
        kind: MailboxKind,
        decision: Decision,
        files: Sequence[FileView],
        links: Sequence[LargeLink],
        *,
        hold: str | None = None,
    ) -> None:
        if msg.replies:  # a verdict already answered is never answered twice
            return
        first = first_contact(
            session,
            sender=msg.sender,
            message_id=msg.id,
            allowlisted=on_roster(msg.sender, self.settings.units),
            names_unit=msg.unit is not None,
        )
        context = reply_context(
            msg=msg,
            kind=kind,
            decision=decision,
            files=files,
            links=links,
            replies=self.settings.replies,
            first_contact=first,
        )
        reply_kind = ReplyKind.ACKNOWLEDGEMENT if decision.status is MessageStatus.ACCEPTED else ReplyKind.REJECTION
        rendered = self.renderer.render(reply_kind.value, context.context())
        reply = new_reply(message=msg, kind=reply_kind, rendered=rendered, sender=self.settings.smtp.sender)
        if reply is not None:
            reply.first_contact = first  # counted against its own cap when it is sent (notify.quota)
            # loops, DMARC, an admin's --no-send, an earlier store's mail: kept for the hosts, never sent
            held = decision.hold or hold or earlier_store_hold(self.blobs, msg.raw_sha256)
            if held is not None:
                suppress(msg, reply, held)
            msg.replies.append(reply)
