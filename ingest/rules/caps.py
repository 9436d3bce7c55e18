"""Decide whether an automatic reply may never go out, beyond the header rules: loop detection.

A reply that may never go out is still written, with status SUPPRESSED and the reason, so that the
hosts see what would have been sent and why it was not. The checks, in order:

- our own header (X-Mailbox-Intake) inside the message (a quoted or attached copy of one of our
  replies: some auto-responders send that back without any header that marks them as machines);
- a burst of identical subjects (after removing reply prefixes such as `Re:` and `回复：`, which
  loops keep adding) from one sender: the `loop_subjects`-th within `loop_minutes` and later ones.

These are final. The caps on the number of replies (per sender, per hour) only defer a reply: they
are applied when replies are sent (`notify.quota`), where a held reply waits for its turn.
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
from store.models import Message, Reply

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


# The store's question, built once (the statement and its cache key are reused; only the values
# change): subjects from one sender in the loop window.
_EARLIER_SUBJECTS = select(Message.subject).where(
    func.lower(Message.sender) == bindparam("sender", type_=String()),
    Message.id != bindparam("message_id"),
    Message.received_at >= bindparam("since"),
    Message.received_at <= bindparam("until"),
)


def reply_hold(session: Session, *, msg: Message, raw: bytes | Path, settings: SafetySettings) -> str | None:
    """Why no automatic reply may ever go out for msg (a reason for the hosts), or None.

    Only other messages are counted, so what this session has not written yet (the message's own
    changes) is not flushed for it."""
    if msg.sender is None:
        return None
    if embeds_own_reply(raw):
        return f"邮件中夹带了本服务发出的邮件（{OWN_HEADER}），疑似自动回复循环，不再自动回复"
    key = subject_key(msg.subject)
    with session.no_autoflush:
        earlier = session.scalars(
            _EARLIER_SUBJECTS,
            {
                "sender": msg.sender.lower(),
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
    return None


def suppress(msg: Message, reply: Reply, reason: str) -> None:
    """Keep the reply (the hosts can read what would have gone out) but never send it."""
    reply.status = ReplyStatus.SUPPRESSED
    reply.last_error = f"未发送：{reason}"
    msg.notes = [*msg.notes, f"自动回复未发送：{reason}"]


def reply_caps(case: Case) -> Finding:
    """The rule: no automatic reply into a loop (the message is still judged)."""
    if case.reply_hold is None:
        return NOTHING
    return Finding(hold=case.reply_hold(case.safety))
