"""The caps on automatic replies: which waiting replies may go out now, and which are held for later.

A reply is written with its verdict and waits; before sending, the sender lets waiting replies out,
oldest first, while the caps allow, and HOLDS the others with the reason and the time from which the
cap may allow them (`next_attempt_at`). A held reply is tried again then, never dropped on its own
(an admin may give held replies up: `intake replies drop-held`). The caps, counted over the replies
let out (`counted_at`):

- `per_sender_daily`: replies to one address in any 24 hours;
- `global_hourly`: replies to known senders in any hour;
- `unknown_sender_hourly`: replies to first contacts in any hour.

A first contact is a sender that matches no unit's `allowed_senders`, whose mail names no roster
unit, and that has neither an accepted message nor a reply sent to it before. First contacts count
against their own cap only, never against `global_hourly`, so a flood of forged or unknown senders
can never hold a unit's reply. An
earlier message that was rejected does not make a sender known: a second wave from the same forged
addresses stays under the tight cap.

The sender is one worker (the leader); two senders deciding at the same instant (an `intake poll
--once` beside a running service) may each let one reply through: the caps are a safety net.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import String, bindparam, func, select
from sqlalchemy.orm import Session

from campaign.settings import SafetySettings
from store.enums import MessageStatus, ReplyStatus
from store.models import Message, Reply

HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(hours=24)

_ACCEPTED_BEFORE = (
    select(Message.id)
    .where(
        func.lower(Message.sender) == bindparam("address", type_=String()),
        Message.id != bindparam("message_id"),
        Message.status == MessageStatus.ACCEPTED,
    )
    .limit(1)
)
_ANSWERED_BEFORE = (
    select(Reply.id)
    .where(func.lower(Reply.recipient) == bindparam("address", type_=String()), Reply.status == ReplyStatus.SENT)
    .limit(1)
)


def first_contact(
    session: Session, *, sender: str | None, message_id: int, allowlisted: bool, names_unit: bool
) -> bool:
    """Whether a reply to sender (for message_id) answers a first contact: not on a unit's list, a
    mail that names no unit of the roster, and no other accepted message from the address nor any
    reply sent to it. A unit's first mail names the unit: it is answered under the global cap."""
    if allowlisted or names_unit or not sender:
        return False
    values = {"address": sender.lower(), "message_id": message_id}
    with session.no_autoflush:
        if session.scalar(_ACCEPTED_BEFORE, values) is not None:
            return False
        return session.scalar(_ANSWERED_BEFORE, values) is None


@dataclass(frozen=True, kw_only=True)
class Admission:
    let_out: int
    held: int


def _hold_reason(reply: Reply, *, to_sender: int, in_class: int, settings: SafetySettings) -> str | None:
    if to_sender >= settings.per_sender_daily:
        return f"该发件人 24 小时内已收到 {to_sender} 封自动回复（上限 {settings.per_sender_daily} 封），暂缓发送"
    if reply.first_contact and in_class >= settings.unknown_sender_hourly:
        return (
            f"最近一小时已向首次来信的陌生发件人发出 {in_class} 封自动回复"
            f"（上限 {settings.unknown_sender_hourly} 封），暂缓发送"
        )
    if not reply.first_contact and in_class >= settings.global_hourly:
        return f"最近一小时已发出 {in_class} 封自动回复（全局上限 {settings.global_hourly} 封），暂缓发送"
    return None


def admit(session: Session, *, now: dt.datetime, settings: SafetySettings) -> Admission:
    """Let out the due waiting replies that the caps allow (PENDING, counted now); hold the others."""
    waiting = session.scalars(
        select(Reply)
        .where(
            Reply.status.in_((ReplyStatus.PENDING, ReplyStatus.HELD)),
            Reply.counted_at.is_(None),
            Reply.next_attempt_at <= now,
        )
        .order_by(Reply.id)
        .with_for_update(skip_locked=True)
    ).all()
    if not waiting:
        return Admission(let_out=0, held=0)
    by_class: dict[bool, list[dt.datetime]] = {True: [], False: []}
    for first, at in session.execute(
        select(Reply.first_contact, Reply.counted_at).where(Reply.counted_at > now - HOUR).order_by(Reply.counted_at)
    ):
        if at is not None:
            by_class[bool(first)].append(at)
    addresses = sorted({r.recipient.lower() for r in waiting})
    by_address: dict[str, list[dt.datetime]] = defaultdict(list)
    for start in range(0, len(addresses), 500):
        for address, at in session.execute(
            select(func.lower(Reply.recipient), Reply.counted_at)
            .where(Reply.counted_at > now - DAY, func.lower(Reply.recipient).in_(addresses[start : start + 500]))
            .order_by(Reply.counted_at)
        ):
            if at is not None:
                by_address[address].append(at)
    let_out = held = 0
    for reply in waiting:
        to_sender, in_class = by_address[reply.recipient.lower()], by_class[reply.first_contact]
        why = _hold_reason(reply, to_sender=len(to_sender), in_class=len(in_class), settings=settings)
        if why is None:
            reply.status = ReplyStatus.PENDING
            reply.counted_at = now
            reply.next_attempt_at = now
            reply.last_error = None
            to_sender.append(now)
            in_class.append(now)
            let_out += 1
            continue
        # the earliest moment the binding window can have room again
        frees = to_sender[0] + DAY if len(to_sender) >= settings.per_sender_daily else in_class[0] + HOUR
        reply.status = ReplyStatus.HELD
        reply.last_error = why
        reply.next_attempt_at = max(frees, now + dt.timedelta(seconds=1))
        held += 1
    return Admission(let_out=let_out, held=held)


def drop_held(session: Session, *, first_contacts_only: bool, by: str) -> int:
    """Give up the replies held by the caps (an admin's choice after a flood): each is kept, never
    sent, with who gave it up; returns how many. Replies to known senders stay held unless asked."""
    query = select(Reply).where(Reply.status == ReplyStatus.HELD)
    if first_contacts_only:
        query = query.where(Reply.first_contact.is_(True))
    dropped = 0
    for reply in session.scalars(query.order_by(Reply.id)):
        reply.status = ReplyStatus.SUPPRESSED
        reply.last_error = f"未发送：发送上限暂缓的回复已由管理员放弃（{by}）"
        reply.leased_by = None
        dropped += 1
    return dropped
