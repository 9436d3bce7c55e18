"""Decide whether an automatic reply may go out now, beyond the header rules: caps and loop detection.

A reply that may not go out is still written, with status SUPPRESSED and the reason, so that the
hosts see what would have been sent and why it was not. The checks, in order:

- our own header (X-Mailbox-Intake) inside the message (a quoted or attached copy of one of our
  replies: some auto-responders send that back without any header that marks them as machines);
- a burst of identical subjects (after removing reply prefixes such as `Re:` and `回复：`, which
  loops keep adding) from one sender: the `loop_subjects`-th within `loop_minutes` and later ones;
- the per-sender cap: at most `per_sender_daily` replies to one address in 24 hours (rolling);
- the global cap: at most `global_hourly` replies in the last hour, over all mailboxes.

Counts come from the database, so they hold across mailboxes, restarts and workers (two workers
deciding at the same instant may each let one reply through: the caps are a safety net, not a quota).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from sqlalchemy import String, bindparam, func, select
from sqlalchemy.orm import Session

from campaign.notice import OWN_HEADER
from campaign.settings import SafetySettings
from ingest.mail.decode import normalise_subject
from ingest.rules import NOTHING, Finding
from ingest.rules.case import Case
from store.enums import ReplyStatus
from store.models import Message, Reply, utcnow

# A header line of ours anywhere below the top header (attached, or quoted with ">"); written in both
# cases rather than re.I so that a 60 MB message is scanned in milliseconds.
_EMBEDDED_OWN_HEADER = re.compile(rb"\n[ \t>]*[Xx]-[Mm][Aa][Ii][Ll][Bb][Oo][Xx]-[Ii][Nn][Tt][Aa][Kk][Ee][ \t]*:")
_CHUNK = 1024 * 1024
_OVERLAP = 4096  # a field name split between two pieces is found in the next one
_AUTO_PREFIX = re.compile(r"^(?:(?:自动回复|自动答复|auto(?:matic)?[ -]?reply|autoreply)\s*[:：]\s*)+", re.I)


def subject_key(subject: str | None) -> str:
    """A subject as loops repeat it: NFKC, no reply/forward/auto-reply prefixes, case folded."""
    text = subject or ""
    while True:
        stripped = _AUTO_PREFIX.sub("", normalise_subject(text))
        if stripped == text:
            return text.casefold()
        text = stripped


def embeds_own_reply(raw: bytes | Path) -> bool:
    """Whether the message (or its file, read in pieces) carries one of our replies inside it (its top
    header is checked elsewhere)."""
    if isinstance(raw, bytes):
        return _EMBEDDED_OWN_HEADER.search(raw) is not None
    tail = b""
    with raw.open("rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            if _EMBEDDED_OWN_HEADER.search(tail + chunk) is not None:
                return True
            tail = chunk[-_OVERLAP:]
    return False


# The store's questions, built once (the statements and their cache keys are reused; only the values
# change): subjects from one sender in the loop window, and the replies counted against both caps.
_EARLIER_SUBJECTS = select(Message.subject).where(
    func.lower(Message.sender) == bindparam("sender", type_=String()),
    Message.id != bindparam("message_id"),
    Message.received_at >= bindparam("since"),
    Message.received_at <= bindparam("until"),
)
_COUNTED = Reply.status != ReplyStatus.SUPPRESSED
_REPLY_COUNTS = select(
    select(func.count(Reply.id))
    .where(
        func.lower(Reply.recipient) == bindparam("recipient", type_=String()),
        _COUNTED,
        Reply.created_at > bindparam("day"),
    )
    .scalar_subquery(),
    select(func.count(Reply.id)).where(_COUNTED, Reply.created_at > bindparam("hour")).scalar_subquery(),
)


def reply_hold(
    session: Session, *, msg: Message, raw: bytes | Path, settings: SafetySettings, now: dt.datetime | None = None
) -> str | None:
    """Why no automatic reply may go out for msg now (a reason for the hosts), or None.

    Only other messages and stored replies are counted, so what this session has not written yet
    (the message's own changes) is not flushed for it."""
    if msg.sender is None:
        return None
    now = now or utcnow()
    if embeds_own_reply(raw):
        return f"邮件中夹带了本服务发出的邮件（{OWN_HEADER}），疑似自动回复循环，不再自动回复"
    key = subject_key(msg.subject)
    sender = msg.sender.lower()
    with session.no_autoflush:
        earlier = session.scalars(
            _EARLIER_SUBJECTS,
            {
                "sender": sender,
                "message_id": msg.id,
                "since": msg.received_at - dt.timedelta(minutes=settings.loop_minutes),
                "until": msg.received_at,
            },
        ).all()
        same = 1 + sum(1 for s in earlier if subject_key(s) == key)
        if same >= settings.loop_subjects:
            return (
                f"同一发件人 {settings.loop_minutes} 分钟内发来 {same} 封标题相同的邮件"
                f"（上限 {settings.loop_subjects - 1} 封有回复），疑似自动回复循环，不再自动回复"
            )
        counts = session.execute(
            _REPLY_COUNTS,
            {"recipient": sender, "day": now - dt.timedelta(hours=24), "hour": now - dt.timedelta(hours=1)},
        ).one()
    to_sender, in_hour = counts[0] or 0, counts[1] or 0
    if to_sender >= settings.per_sender_daily:
        return f"该发件人 24 小时内已收到 {to_sender} 封自动回复（上限 {settings.per_sender_daily} 封），不再自动回复"
    if in_hour >= settings.global_hourly:
        return f"最近一小时已发出 {in_hour} 封自动回复（全局上限 {settings.global_hourly} 封），暂停自动回复"
    return None


def suppress(msg: Message, reply: Reply, reason: str) -> None:
    """Keep the reply (the hosts can read what would have gone out) but never send it."""
    reply.status = ReplyStatus.SUPPRESSED
    reply.last_error = f"未发送：{reason}"
    msg.notes = [*msg.notes, f"自动回复未发送：{reason}"]


def reply_caps(case: Case) -> Finding:
    """The rule: no automatic reply beyond the caps, or into a loop (the message is still judged)."""
    if case.reply_hold is None:
        return NOTHING
    return Finding(hold=case.reply_hold(case.safety))
