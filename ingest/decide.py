"""A person changes a verdict: the new verdict, its audit event and the corrected reply, in one transaction.

The one way to overrule the automatic judge, called by `intake decide` and by the workbench. A
rejected message becomes accepted (and counts as a work or a report from then on), or an accepted one
rejected, with the person's reason. The unit is told by a correction (`notify/templates/correction`)
in the official style of the other replies, unless the caller says not to; a reply of the old verdict
that has not gone out yet is withheld. A message has one correction row (its unique key is the
message and the reply kind): a later change rewrites it, sent again, and the audit event keeps the
text that went out before.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from campaign.notice import KIND_NAMES, MailboxKind, datetime_text, local
from campaign.settings import Settings
from ingest import activities
from ingest.mail.decode import without_reply_prefixes
from notify.contexts import Correction
from notify.render import Renderer
from notify.replies import new_reply
from notify.safe import clean_text
from store.audit import message_target, record
from store.blobs import BlobStore
from store.enums import AuditAction, MessageStatus, ReplyKind, ReplyStatus, WorkRole
from store.models import ActivityCount, AuditEvent, Message, Reply, utcnow

LABELS = {MessageStatus.ACCEPTED: "通过", MessageStatus.REJECTED: "退回"}
MAX_REASON = 500


class DecisionRefused(ValueError):
    """The change cannot be made; the text says why, in Chinese, for the person who asked."""


@dataclass(frozen=True, kw_only=True)
class Outcome:
    message_id: int
    before: MessageStatus
    after: MessageStatus
    reply: ReplyStatus | None  # the correction's state: pending (to be sent), or None (not sent)
    already_told: bool = False  # no correction needed: the last reply that went out says the new verdict


def told_verdict(session: Session, msg: Message) -> MessageStatus | None:
    """What the unit was last told of msg: the verdict of the last reply that went out, or None."""
    told = [r for r in msg.replies if r.status is ReplyStatus.SENT]
    if not told:
        return None
    last = max(told, key=lambda r: (r.sent_at or r.created_at, r.id))
    if last.kind is ReplyKind.ACKNOWLEDGEMENT:
        return MessageStatus.ACCEPTED
    if last.kind is ReplyKind.REJECTION:
        return MessageStatus.REJECTED
    # a correction: the row is rewritten by every change that tells the unit, so the one that went
    # out is the newest such change's
    events = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.target == message_target(msg.id), AuditEvent.action == AuditAction.VERDICT_CHANGED)
        .order_by(AuditEvent.id.desc())
    )
    after = next((e.details.get("after") for e in events if e.details.get("told", e.details.get("send"))), None)
    return next((s for s in LABELS if s.value == after), None)


def _previous(msg: Message, told: MessageStatus) -> str:
    sent = [r for r in msg.replies if r.status is ReplyStatus.SENT]
    last = max(sent, key=lambda r: (r.sent_at or r.created_at, r.id))
    if last.kind is ReplyKind.CORRECTION:
        return "经复核予以登记" if told is MessageStatus.ACCEPTED else "经复核未通过"
    return "已登记" if told is MessageStatus.ACCEPTED else "未通过"


def correction_context(
    msg: Message, *, kind: MailboxKind, accepted: bool, previous: str, reason: str, settings: Settings
) -> Correction:
    subject = msg.subject or ""
    return Correction(
        addressee=clean_text(msg.unit or "", max_chars=100) or "贵单位",
        subject=clean_text(subject, max_chars=150) or "（无标题）",
        subject_line=clean_text(without_reply_prefixes(subject), max_chars=150) or "（无标题）",
        collection=KIND_NAMES[kind],
        received_at=datetime_text(local(msg.arrived_at)),
        campaign=settings.replies.campaign,
        contact=settings.replies.contact,
        accepted=accepted,
        previous=previous,
        reason=clean_text(reason, max_chars=MAX_REASON),
        title=clean_text(msg.title, max_chars=120) if msg.title and kind is not MailboxKind.OFFLINE_ACTIVITY else None,
    )


def _withhold(reply: Reply, why: str) -> None:
    reply.status = ReplyStatus.SUPPRESSED
    reply.last_error = why
    reply.leased_by = None


def _read_count(session: Session, blobs: BlobStore, msg: Message) -> None:
    """A report accepted by a host counts what it states (its body, its documents, its subject)."""
    try:
        statement = activities.read_report(
            blobs,
            raw_sha256=msg.raw_sha256,
            subject=msg.subject,
            documents=activities.stored_texts(session, msg.id),
            supplements=activities.supplements_of(session, message_id=msg.id, mailbox=msg.mailbox, unit=msg.unit),
        )
    except activities.ReportUnreadable:  # the raw file is gone: a count read before stays, else one
        if session.get(ActivityCount, msg.id) is not None:
            return
        statement = None
    activities.record(session, message_id=msg.id, statement=statement)


def overrule(
    *,
    sessions: sessionmaker[Session],
    settings: Settings,
    renderer: Renderer,
    blobs: BlobStore,
    message_id: int,
    verdict: MessageStatus,
    reason: str,
    actor: str,
    send: bool = True,
    now: dt.datetime | None = None,
) -> Outcome:
    """Change message_id's verdict to `verdict` (accepted or rejected) for `reason`; a report made
    accepted is read for its activity count as if it had been accepted when judged."""
    reason = " ".join(reason.split())
    if verdict not in LABELS:
        raise DecisionRefused("只能改为“通过”或“退回”")
    if not reason:
        raise DecisionRefused("请写明改判理由")
    if len(reason) > MAX_REASON:
        raise DecisionRefused(f"改判理由请不超过 {MAX_REASON} 字")
    with sessions.begin() as session:
        msg = session.get(Message, message_id, with_for_update=True)
        if msg is None:
            raise DecisionRefused(f"没有第 {message_id} 号邮件")
        kind = next((b.kind for b in settings.mailboxes if b.name == msg.mailbox), None)
        if kind is None:
            raise DecisionRefused(f"第 {message_id} 号邮件的邮箱 {msg.mailbox} 不在配置中")
        before = msg.status
        if before not in LABELS:
            raise DecisionRefused(f"第 {message_id} 号邮件的状态是 {before.value}，只有通过或退回的邮件可以改判")
        if before is verdict:
            raise DecisionRefused(f"第 {message_id} 号邮件已经是“{LABELS[verdict]}”")
        accepted = verdict is MessageStatus.ACCEPTED
        told = told_verdict(session, msg)
        already_told = told is verdict
        previous = _previous(msg, told) if told is not None else ""
        msg.status = verdict
        msg.reasons = [] if accepted else [f"经主办方复核未通过：{reason}"]
        msg.decided_at = now.astimezone(dt.UTC).replace(tzinfo=None) if now else utcnow()
        if accepted and kind is MailboxKind.OFFLINE_ACTIVITY:
            _read_count(session, blobs, msg)
        if accepted and kind is not MailboxKind.OFFLINE_ACTIVITY:
            msg.work_role, msg.work_of = WorkRole.ORIGINAL, None
        elif not accepted:
            msg.work_role, msg.work_of = None, None
        for old in msg.replies:  # the old verdict's answer must not go out after the correction
            if old.kind is not ReplyKind.CORRECTION and old.status is ReplyStatus.PENDING:
                _withhold(old, "审核结果已被人工改判，改发更正通知")
        existing = next((r for r in msg.replies if r.kind is ReplyKind.CORRECTION), None)
        earlier_text = existing.body_text if existing is not None and existing.status is ReplyStatus.SENT else None
        state: ReplyStatus | None = None
        if send and not already_told:
            context = correction_context(
                msg, kind=kind, accepted=accepted, previous=previous, reason=reason, settings=settings
            )
            rendered = renderer.render("correction", context.context())
            reply = new_reply(message=msg, kind=ReplyKind.CORRECTION, rendered=rendered, sender=settings.smtp.sender)
            if reply is not None and existing is not None:
                for name in (
                    "recipient",
                    "reply_message_id",
                    "in_reply_to",
                    "references",
                    "subject",
                    "body_text",
                    "body_html",
                ):
                    setattr(existing, name, getattr(reply, name))
                existing.status, existing.attempts, existing.last_error = ReplyStatus.PENDING, 0, None
                existing.next_attempt_at, existing.sent_at, existing.leased_by = utcnow(), None, None
                state = ReplyStatus.PENDING
            elif reply is not None:
                msg.replies.append(reply)
                state = ReplyStatus.PENDING
        elif existing is not None and existing.status is ReplyStatus.PENDING:
            _withhold(existing, "报送单位此前收到的回复与改判结果一致" if send else "改判时选择不通知报送单位")
        told_text = "已通知报送单位" if state is ReplyStatus.PENDING else "未通知报送单位"
        if already_told and send:
            told_text = f"报送单位此前收到的回复已是“{LABELS[verdict]}”，无需更正"
        details: dict[str, object] = {
            "before": before.value,
            "after": verdict.value,
            "send": send,
            "told": state is ReplyStatus.PENDING,  # a correction of this verdict is on its way to the unit
        }
        if earlier_text is not None and state is ReplyStatus.PENDING:
            details["earlier_correction"] = earlier_text
        record(
            session,
            actor=actor,
            action=AuditAction.VERDICT_CHANGED,
            target=message_target(msg.id),
            summary=f"审核结果由“{LABELS[before]}”改为“{LABELS[verdict]}”（{told_text}）",
            reason=reason,
            details=details,
        )
        return Outcome(message_id=msg.id, before=before, after=verdict, reply=state, already_told=already_told and send)
