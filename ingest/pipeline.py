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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from campaign.notice import KIND_NAMES, LOCAL_TZ, convention
from campaign.settings import MailboxSettings, Settings
from ingest.inspect import inspect_file
from ingest.inspect.facts import FileFacts, InspectLimits
from ingest.mail.decode import normalise_subject
from ingest.mail.links import find_links
from ingest.mail.parse import ParsedMail, ParseLimitExceeded, ParseLimits, parse_bytes, parse_headers_only
from ingest.roster import Roster
from ingest.rules import Problem
from ingest.rules.autoreply import ignore_reason
from ingest.rules.caps import reply_hold, suppress
from ingest.rules.collections import late_problem
from ingest.rules.content import FileView, Submission, review
from ingest.rules.subject import check_subject
from ingest.rules.trust import judge_sender
from notify.render import Renderer
from notify.replies import new_reply
from notify.safe import clean_text, display_name
from store.blobs import BlobStore
from store.enums import AttachmentKind, MessageStatus, ReplyKind, Stage
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


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _jsonable(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if f.name not in ("members", "path")
        }
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, Path):
        return None
    if hasattr(value, "value") and isinstance(getattr(value, "value", None), str):
        return value.value
    return value


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
        self, *, mailbox: str, uidvalidity: int, uid: int, raw: bytes, size: int | None = None, oversize: bool = False
    ) -> int | None:
        """Keep the raw bytes and a RECEIVED row; None when (mailbox, UIDVALIDITY, UID) is known."""
        sha = self.blobs.put_bytes(raw)
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
            limit_problem: Problem | None = None
            try:
                mail = parse_bytes(raw, limits=self.parse_limits)
            except ParseLimitExceeded as exc:
                mail = parse_headers_only(raw)
                limit_problem = Problem(
                    code="parse-limit",
                    text=f"邮件无法处理：{exc}",
                    fix=exc.fix,
                )
            self._describe(msg, mail)

        with stage(Stage.CLASSIFY):
            ignored = ignore_reason(mail)
            if ignored is not None:
                return self._finish(msg, MessageStatus.IGNORED, [ignored])
            verdict = check_subject(mail.subject, kind=box.kind, roster=self.roster)
            msg.unit = verdict.unit
            msg.title = verdict.title
            problems: list[Problem] = list(verdict.problems)
            if limit_problem is not None:
                problems.append(limit_problem)
            if msg.oversize:
                problems.append(self._oversize_problem(msg, box))

        with stage(Stage.EXTRACT):
            files = [] if (msg.oversize or limit_problem) else self._extract(session, msg, mail)
            links = find_links(mail.text, mail.html)
            msg.large_attachment_links = [link.as_dict() for link in links]

        with stage(Stage.VALIDATE):
            notes: list[str] = []
            rules = self.settings.rules[box.kind]
            if not (msg.oversize or limit_problem):
                found = review(
                    Submission(
                        kind=box.kind, text=mail.text, html=mail.html, files=files, rules=rules, large_links=len(links)
                    )
                )
                problems.extend(found.problems)
                notes.extend(found.notes)
            received_day = msg.received_at.replace(tzinfo=dt.UTC).astimezone(LOCAL_TZ).date()
            if box.deadline is not None and received_day > box.deadline:
                msg.late = True
                if rules.late == "reject":
                    problems.append(late_problem(box.deadline, received_day))
                else:
                    notes.append(f"本邮件在截止日期 {box.deadline.isoformat()} 之后收到，已登记为逾期报送。")
            if links:
                notes.append(f"邮件中有 {len(links)} 个超大附件链接，链接会过期，已转告工作人员及时下载。")
            trust = judge_sender(mail, unit=msg.unit, units=self.settings.units, authserv_id=box.authserv_id)
            problems.extend(trust.problems)

        with stage(Stage.DECIDE):
            status = MessageStatus.REJECTED if problems else MessageStatus.ACCEPTED
            self._finish(msg, status, [p.as_reason() for p in problems], notes=notes)
            hold = trust.hold or reply_hold(session, msg=msg, raw=raw, settings=self.settings.safety)
            self._write_reply(session, msg, box, mail, status, problems, files, notes, hold=hold)
            return status

    # -- helpers -------------------------------------------------------------------------------

    def _describe(self, msg: Message, mail: ParsedMail) -> None:
        msg.message_id = mail.message_id[:998] if mail.message_id else None
        msg.sender = mail.sender
        msg.subject = mail.subject
        msg.raw_subject = mail.raw_subject
        msg.date_header = (mail.date or "")[:200] or None
        msg.references = mail.references

    def _oversize_problem(self, msg: Message, box: MailboxSettings) -> Problem:
        mb = 1024 * 1024
        return Problem(
            code="too-large",
            text=f"邮件大小 {msg.raw_size / mb:.1f} MB，超过本邮箱的上限 {box.max_message_bytes / mb:.0f} MB，未能接收",
            fix="请压缩文件，或改用 QQ 邮箱/网易邮箱的“超大附件”发送下载链接。",
        )

    def _finish(
        self, msg: Message, status: MessageStatus, reasons: list[str], notes: list[str] | None = None
    ) -> MessageStatus:
        msg.status = status
        msg.reasons = reasons
        msg.notes = notes or []
        msg.decided_at = utcnow()
        return status

    def _is_duplicate(self, session: Session, unit: str | None, sha256: str, msg_id: int) -> bool:
        if unit is None:
            return False
        found = session.scalar(
            select(Attachment.id)
            .join(Message)
            .where(
                Attachment.sha256 == sha256,
                Attachment.counted.is_(True),
                Message.unit == unit,
                Message.status == MessageStatus.ACCEPTED,
                Message.id != msg_id,
            )
            .limit(1)
        )
        return found is not None

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
    ) -> FileView:
        duplicate = facts.kind is not AttachmentKind.ARCHIVE and self._is_duplicate(session, msg.unit, sha, msg.id)
        counted = not duplicate and facts.kind is not AttachmentKind.ARCHIVE and not facts.problems
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
                facts=_jsonable(facts),
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
        )

    def _extract(self, session: Session, msg: Message, mail: ParsedMail) -> list[FileView]:
        views: list[FileView] = []
        position = 0
        with self.blobs.tempdir() as tmp:
            work = Path(tmp)
            for part in mail.parts:
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
                        )
                    )
                    position += 1
        return views

    def _write_reply(
        self,
        session: Session,
        msg: Message,
        box: MailboxSettings,
        mail: ParsedMail,
        status: MessageStatus,
        problems: list[Problem],
        files: list[FileView],
        notes: list[str],
        hold: str | None = None,
    ) -> None:
        if msg.replies:  # a verdict already answered is never answered twice
            return
        conv, example = convention(box.kind)
        received = msg.received_at.replace(tzinfo=dt.UTC).astimezone(LOCAL_TZ).strftime("%Y年%m月%d日 %H:%M")
        subject = clean_text(mail.subject, max_chars=150) or "（无标题）"
        subject_line = clean_text(normalise_subject(mail.subject), max_chars=150) or "（无标题）"
        file_rows = [
            {"name": f.name, "label": f.label, "size": f.size, "container": f.container, "problems": list(f.problems)}
            for f in files
        ]
        common: dict[str, Any] = {
            "subject": subject,
            "subject_line": subject_line,
            "collection": KIND_NAMES[box.kind],
            "received_at": received,
            "campaign": self.settings.replies.campaign,
            "contact": self.settings.replies.contact,
        }
        if status is MessageStatus.ACCEPTED:
            counted = [
                r
                for r, f in zip(file_rows, files, strict=True)
                if f.valid and not f.duplicate and f.kind is not AttachmentKind.ARCHIVE
            ]
            not_counted = [
                {
                    "name": f.name,
                    "why": "与此前已收到的文件相同，不重复计入"
                    if f.duplicate
                    else "压缩包本身不计入，其中的文件已分别登记"
                    if f.kind is AttachmentKind.ARCHIVE
                    else "；".join(f.problems) or "不是可登记的文件",
                }
                for f in files
                if not (f.valid and not f.duplicate and f.kind is not AttachmentKind.ARCHIVE)
            ]
            context = {
                **common,
                "unit": msg.unit or "",
                "title": msg.title,
                "counted": counted,
                "not_counted": not_counted,
                "links": msg.large_attachment_links,
                "notes": notes,
            }
            kind = ReplyKind.ACKNOWLEDGEMENT
        else:
            context = {
                **common,
                "problems": [  # a reason may quote the subject as typed: no controls or bidi in a reply
                    {"text": clean_text(p.text, max_chars=2000), "fix": clean_text(p.fix, max_chars=2000)}
                    for p in problems
                ],
                "files": file_rows,
                "convention": conv,
                "example": example,
            }
            kind = ReplyKind.REJECTION
        rendered = self.renderer.render(kind.value, context)
        reply = new_reply(message=msg, kind=kind, rendered=rendered, sender=self.settings.smtp.sender)
        if reply is not None:
            if hold is not None:  # caps, loops, DMARC: kept for the hosts, never sent
                suppress(msg, reply, hold)
            msg.replies.append(reply)
