"""A report that answers our acknowledgement of the same unit's accepted report: more material for it.

A unit whose offline-activity report was accepted often answers our acknowledgement with more
photos (`补充几张活动照片，请查收`). Such a mail is judged like any report (its photos are checked and
stored, it is acknowledged), but it is a supplement to the report our acknowledgement answered, not
a second report: it counts no activity unless its own words state a number. It is one when its
In-Reply-To or References name our stored acknowledgement of an accepted report of the same unit in
the same mailbox. The judging and every later reading (`db upgrade`, `intake count`, a host's
verdict) ask the same question of the stored message's headers, so they agree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from sqlalchemy.orm import Session

from campaign.notice import MailboxKind, local
from ingest.chain import Decision
from ingest.mail.parse import ParsedMail
from ingest.thread import answered
from store.enums import MessageStatus, ReplyKind
from store.models import Message, Reply


@dataclass(frozen=True, kw_only=True)
class SupplementOf:
    """The accepted report of the same unit a supplement adds material to."""

    message_id: int
    day: dt.date  # when that report arrived (local day)

    @property
    def when(self) -> str:
        return f"{self.day.month}月{self.day.day}日"

    @property
    def note(self) -> str:
        """The line of the acknowledgement that tells the unit so."""
        return f"已作为此前报告（{self.when}）的补充材料登记。"

    @property
    def remark(self) -> str:
        """What the hosts read beside the verdict."""
        return f"对本服务确认回复的答复：补充第 {self.message_id} 号报告（{self.when}）的材料"

    def phrase(self, stated: str | None) -> str:
        """The words kept with the count: the report it supplements and, if any, the number it states."""
        head = f"补充第 {self.message_id} 号报告的材料"
        return f"{head}，不另计场次" if stated is None else f"{head}，写明“{stated}”"


def supplement_of(
    session: Session, *, message_id: int, mailbox: str, unit: str | None, mail: ParsedMail
) -> SupplementOf | None:
    """The report the mail supplements, when its headers name our acknowledgement of an accepted
    report of the same unit in the same mailbox; else None."""
    if unit is None:
        return None
    return _of_reply(session, message_id=message_id, mailbox=mailbox, unit=unit, reply=answered(session, mail))


def _of_reply(
    session: Session, *, message_id: int, mailbox: str, unit: str, reply: Reply | None
) -> SupplementOf | None:
    """The accepted report of the same unit and mailbox whose acknowledgement is reply, else None."""
    if reply is None or reply.kind is not ReplyKind.ACKNOWLEDGEMENT or reply.message_id == message_id:
        return None
    report = session.get(Message, reply.message_id)
    if (
        report is None
        or report.mailbox != mailbox
        or report.unit != unit
        or report.status is not MessageStatus.ACCEPTED
    ):
        return None
    return SupplementOf(message_id=report.id, day=local(report.arrived_at).date())


def of_accepted(
    session: Session, *, msg: Message, reply: Reply | None, kind: MailboxKind, status: MessageStatus
) -> SupplementOf | None:
    """The report an accepted offline-activity mail supplements (reply: ours that its headers name), else None."""
    if kind is not MailboxKind.OFFLINE_ACTIVITY or status is not MessageStatus.ACCEPTED or msg.unit is None:
        return None
    return _of_reply(session, message_id=msg.id, mailbox=msg.mailbox, unit=msg.unit, reply=reply)


def told(decision: Decision, of: SupplementOf | None) -> Decision:
    """The decision with one line for the unit and a remark for the hosts, when the mail is a supplement."""
    if of is None:
        return decision
    return replace(decision, notes=(*decision.notes, of.note), remarks=(*decision.remarks, of.remark))
