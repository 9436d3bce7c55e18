"""The hosts' selection (遴选): a work shortlisted (初选), selected (推荐) or recommended upward by the
province (省总推荐), with a short comment; each change and its audit event in one transaction.

Only an accepted work of a collection can be selected (a resend, supplement or new version belongs to
the work's first mail, which is the one selected). Who may recommend is the caller's permission to
check; this module keeps the facts straight.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from campaign.notice import MailboxKind
from campaign.settings import Settings
from store.audit import message_target, record
from store.enums import AuditAction, MessageStatus, SelectionStage, WorkRole
from store.models import Message, Selection, utcnow

STAGE_NAMES = {
    None: "未遴选",
    SelectionStage.SHORTLISTED: "初选",
    SelectionStage.SELECTED: "推荐",
    SelectionStage.RECOMMENDED: "省总推荐",
}
MAX_COMMENT = 200


class SelectionRefused(ValueError):
    """The work cannot be selected; the text says why, in Chinese."""


@dataclass(frozen=True, kw_only=True)
class Choice:
    message_id: int
    kind: MailboxKind
    before: SelectionStage | None
    after: SelectionStage | None


def choose(
    *,
    sessions: sessionmaker[Session],
    settings: Settings,
    message_id: int,
    stage: SelectionStage | None,
    comment: str | None,
    actor: str,
) -> Choice:
    """Set (or, with None, withdraw) a work's stage; comment None keeps the comment it had."""
    comment = " ".join(comment.split()) if comment is not None else None
    if comment is not None and len(comment) > MAX_COMMENT:
        raise SelectionRefused(f"评语请不超过 {MAX_COMMENT} 字")
    with sessions.begin() as session:
        msg = session.get(Message, message_id)
        kind = next((b.kind for b in settings.mailboxes if msg is not None and b.name == msg.mailbox), None)
        if msg is None or kind is None:
            raise SelectionRefused(f"没有第 {message_id} 号作品")
        if kind is MailboxKind.OFFLINE_ACTIVITY:
            raise SelectionRefused("线下活动汇总不是征集作品，不参加遴选")
        if msg.status is not MessageStatus.ACCEPTED:
            raise SelectionRefused("只有审核通过的作品可以遴选（如需要，请先改判为通过）")
        if msg.work_role not in (None, WorkRole.ORIGINAL):
            raise SelectionRefused(f"这封邮件属于第 {msg.work_of} 号作品，请在该作品页面遴选")
        row = session.get(Selection, message_id)
        before = row.stage if row is not None else None
        if before is stage and (comment is None or row is None or comment == row.comment):
            return Choice(message_id=message_id, kind=kind, before=before, after=stage)
        if stage is None:
            if row is not None:
                session.delete(row)
        elif row is None:
            session.add(Selection(message_id=message_id, stage=stage, comment=comment or "", by=actor, at=utcnow()))
        else:
            row.stage, row.by, row.at = stage, actor, utcnow()
            if comment is not None:
                row.comment = comment
        summary = f"遴选：{STAGE_NAMES[before]} → {STAGE_NAMES[stage]}" if before is not stage else "修改遴选评语"
        record(
            session,
            actor=actor,
            action=AuditAction.SELECTION_CHANGED,
            target=message_target(message_id),
            summary=summary,
            reason=comment or "",
            details={"before": before.value if before else None, "after": stage.value if stage else None},
        )
        return Choice(message_id=message_id, kind=kind, before=before, after=stage)
