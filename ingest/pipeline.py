"""Judge one stored message: parse, classify, extract, validate, decide once, in one transaction.

The verdict, the attachments and the pending reply are written together; a failure (our
fault) rolls all of it back and records the stage and traceback instead, so the message can
be replayed from its raw bytes with `intake rerun`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from campaign.notice import MailboxKind
from campaign.settings import Settings
from ingest import activities, seen
from ingest.answer import reply_context
from ingest.chain import Decision, decide, screen
from ingest.inspect import inspect_file
from ingest.inspect.facts import FileFacts, InspectLimits, facts_json
from ingest.mail.arrival import Arrival, from_internaldate
from ingest.mail.links import LargeLink, find_links
from ingest.mail.parse import ParsedMail, ParseLimitExceeded, ParseLimits, parse_bytes, parse_headers_only
from ingest.pictures import layout_cids, picture_note
from ingest.roster import Roster
from ingest.rules.caps import reply_hold, suppress
from ingest.rules.case import Case
from ingest.rules.content import FileView
from ingest.rules.registration import role_of
from ingest.rules.subject import check_subject
from notify.render import Renderer
from notify.replies import new_reply
from notify.safe import display_name
from store.blobs import BlobStore
from store.enums import AttachmentKind, MessageStatus, ReplyKind, Stage, WorkRole
from store.models import Attachment, Message, utcnow

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

    # -- storing -------------------------------------------------------------------------------

    def store_raw(
        self,
        *,
        mailbox: str,
        uidvalidity: int,
        uid: int,
        raw: bytes,
        size: int | None = None,
        oversize: bool = False,
        internaldate: dt.datetime | None = None,
        arrival: Arrival | None = None,
    ) -> int | None:
        """Keep the raw bytes and a RECEIVED row; None when (mailbox, UIDVALIDITY, UID) is known.

        The arrival time is the server's INTERNALDATE, or what an import read from the file; the
        time stored (received_at) is kept apart from it."""
        sha = self.blobs.put_bytes(raw)
        arrived = arrival or from_internaldate(internaldate, now=dt.datetime.now(dt.UTC))
        try:
            with self.sessions.begin() as session:
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
                    raw_sha256=sha,
                    raw_size=size if size is not None else len(raw),
                    oversize=oversize,
                    status=MessageStatus.RECEIVED,
                    reasons=[],
                    notes=[],
                    large_attachment_links=[],
                    attempts=0,
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

    def process(self, message_id: int) -> MessageStatus:
        """Judge one stored message; an exception marks it FAILED with its stage and traceback."""
        stage = _Stage()
        try:
            with self.sessions.begin() as session:
                msg = session.get(Message, message_id)
                if msg is None:
                    raise LookupError(f"no message with id {message_id}")
                status = self._judge(session, msg, stage)
                log.info("message %d (%s uid %d, %s): %s", msg.id, msg.mailbox, msg.uid, msg.message_id, status.value)
                return status
        except Exception:
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

    def _judge(self, session: Session, msg: Message, stage: _Stage) -> MessageStatus:
        box = self.settings.mailbox(msg.mailbox)
        msg.attempts += 1
        msg.failure_stage = None
        msg.failure_traceback = None
        msg.attachments.clear()
        session.flush()

        with stage(Stage.PARSE):
            if msg.raw_sha256 is None:
                raise LookupError("the raw message was never stored")
            raw = self.blobs.read_bytes(msg.raw_sha256)
            parse_error: ParseLimitExceeded | None = None
            try:
                mail = parse_bytes(raw, limits=self.parse_limits)
            except ParseLimitExceeded as exc:
                mail = parse_headers_only(raw)
                parse_error = exc
            self._describe(msg, mail)
            original = seen.claim(session, msg, address=box.address, mail=mail, raw=raw)
            if original is not None:  # a second delivery: recorded, never judged or answered again
                return seen.record_duplicate(msg, original)

        with stage(Stage.CLASSIFY):
            ignored = screen(mail)
            if ignored is not None:
                return self._record(msg, ignored)
            subject = check_subject(mail.subject, kind=box.kind, roster=self.roster)
            msg.unit = subject.unit
            msg.title = subject.title

        with stage(Stage.EXTRACT):
            unreadable = msg.oversize or parse_error is not None
            files = [] if unreadable else self._extract(session, msg, mail)
            links = find_links(mail.text, mail.html)
            msg.large_attachment_links = [link.as_dict() for link in links]

        with stage(Stage.VALIDATE):
            registered = None
            if box.kind is not MailboxKind.OFFLINE_ACTIVITY:
                same_kind = [b.name for b in self.settings.mailboxes if b.kind is box.kind]
                shas = [a.sha256 for a in msg.attachments if a.valid]
                registered = seen.registered_work(session, msg, shas=shas, mailboxes=same_kind)
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
            )
            decision = decide(case)

        with stage(Stage.DECIDE):
            msg.late = case.late
            self._record(msg, decision)
            accepted = decision.status is MessageStatus.ACCEPTED
            msg.work_role = role_of(box.kind, case.files, registered, subject.title) if accepted else None
            msg.work_of = (
                registered.message_id if accepted and registered and msg.work_role is not WorkRole.ORIGINAL else None
            )
            if box.kind is MailboxKind.OFFLINE_ACTIVITY and decision.status is MessageStatus.ACCEPTED:
                activities.record(
                    session, message_id=msg.id, statement=activities.statement_of(mail, subject=msg.subject)
                )
            self._write_reply(msg, box.kind, decision, files, links)
            return decision.status

    # -- helpers -------------------------------------------------------------------------------

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

    def _add_file(
        self,
        session: Session,
        msg: Message,
        *,
        position: int,
        filename: str | None,
        name: str,
        sha: str,
        size: int,
        facts: FileFacts,
        inline: bool,
        container: str | None,
        note: str | None = None,
    ) -> FileView:
        kind = self.settings.mailbox(msg.mailbox).kind
        same_kind = [b.name for b in self.settings.mailboxes if b.kind is kind]
        duplicate = facts.kind is not AttachmentKind.ARCHIVE and seen.accepted_before(
            session, msg, sha256=sha, mailboxes=same_kind
        )
        counted = not duplicate and facts.kind is not AttachmentKind.ARCHIVE and not facts.problems and not note
        msg.attachments.append(
            Attachment(
                position=position,
                filename=filename,
                display_name=name,
                container=container,
                sha256=sha,
                size=size,
                mime=facts.mime[:255],
                label=facts.label[:255],
                kind=facts.kind,
                inline=inline,
                valid=not facts.problems,
                counted=counted,
                problems=list(facts.problems),
                facts=facts_json(facts),
                note=note,
            )
        )
        return FileView(
            name=name,
            kind=facts.kind,
            label=facts.label,
            size=size,
            valid=not facts.problems,
            inline=inline,
            duplicate=duplicate,
            is_description=facts.is_description,
            problems=facts.problems,
            container=container,
            mime=facts.mime,
            media=facts.media,
            image=facts.image,
            executable=facts.executable,
            note=note,
        )

    def _extract(self, session: Session, msg: Message, mail: ParsedMail) -> list[FileView]:
        views: list[FileView] = []
        position = 0
        layout = layout_cids(mail.html)
        min_side = self.settings.rules[self.settings.mailbox(msg.mailbox).kind].picture_min_long_side
        with self.blobs.tempdir() as tmp:
            work = Path(tmp)
            for part in mail.parts:
                if part.is_signature:  # S/MIME or PGP: not a file the sender submitted
                    continue
                name = display_name(part.filename, fallback=f"附件{part.index + 1}")
                path = work / f"part-{part.index:04d}"
                path.write_bytes(part.payload)
                facts = inspect_file(path, filename=name, limits=self.inspect_limits, workdir=work)
                if part.problems:  # damaged in transit, e.g. broken base64
                    facts = dataclasses.replace(facts, problems=(*part.problems, *facts.problems))
                sha = self.blobs.put_bytes(part.payload)
                views.append(
                    self._add_file(
                        session,
                        msg,
                        position=position,
                        filename=part.filename,
                        name=name,
                        sha=sha,
                        size=len(part.payload),
                        facts=facts,
                        inline=part.inline,
                        container=None,
                        note=picture_note(
                            facts.image, content_id=part.content_id, layout=layout, min_long_side=min_side
                        ),
                    )
                )
                position += 1
                for member in facts.members:
                    mname = display_name(member.name, fallback=f"文件{position}")
                    msha = self.blobs.adopt(member.path) if member.path is not None else member.sha256
                    views.append(
                        self._add_file(
                            session,
                            msg,
                            position=position,
                            filename=member.name,
                            name=mname,
                            sha=msha,
                            size=member.size,
                            facts=member.facts,
                            inline=False,
                            container=name,
                            note=picture_note(
                                member.facts.image, content_id=None, layout=layout, min_long_side=min_side
                            ),
                        )
                    )
                    position += 1
        return views

    def _write_reply(
        self,
        msg: Message,
        kind: MailboxKind,
        decision: Decision,
        files: Sequence[FileView],
        links: Sequence[LargeLink],
    ) -> None:
        if msg.replies:  # a verdict already answered is never answered twice
            return
        context = reply_context(
            msg=msg, kind=kind, decision=decision, files=files, links=links, replies=self.settings.replies
        )
        reply_kind = ReplyKind.ACKNOWLEDGEMENT if decision.status is MessageStatus.ACCEPTED else ReplyKind.REJECTION
        rendered = self.renderer.render(reply_kind.value, context.context())
        reply = new_reply(message=msg, kind=reply_kind, rendered=rendered, sender=self.settings.smtp.sender)
        if reply is not None:
            if decision.hold is not None:  # caps, loops, DMARC: kept for the hosts, never sent
                suppress(msg, reply, decision.hold)
            msg.replies.append(reply)
