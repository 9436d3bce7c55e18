"""Mail in our own thread: a unit answering one of our replies with nothing to submit is a conversation.

A mail answers us when its In-Reply-To or References name one of our replies (their Message-IDs
are stored with them), or when it quotes one (our closing line in its body, our suffix in its
subject). It carries something new when it has a file that is not a logo or signature picture, a
large-attachment link, or (for the service-platform collection) a link in the sender's own words:
then it is judged like any mail. Otherwise it is recorded as a conversation (`收到，谢谢`, a
question): never answered, never a rejection, and its first words are kept for the hosts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.notice import MailboxKind
from ingest.chain import Decision
from ingest.mail.links import LargeLink
from ingest.mail.ours import has_our_suffix, quotes_our_reply
from ingest.mail.parse import ParsedMail
from ingest.mail.quoted import SIGNATURE, above_quote
from ingest.rules.platforms import URL
from ingest.rules.views import FileView
from store.enums import MessageStatus, ReplyKind
from store.models import Message, Reply

FIRST_WORDS = 60  # characters of a conversation's own text kept for the hosts
_MSGID = re.compile(r"<[^<>\s]{1,250}>")
_MAX_IDS = 50  # the newest ids of a long References header
_SPACES = re.compile(r"\s+")
_KIND_NAMES = {ReplyKind.ACKNOWLEDGEMENT: "确认回复", ReplyKind.REJECTION: "退回回复"}


@dataclass(frozen=True, kw_only=True)
class Conversation:
    """A mail in our thread that is no submission: the decision to record, and the unit it came from."""

    decision: Decision
    unit: str | None  # the unit of the message our reply answered, when the mail names our reply


def answered(session: Session, mail: ParsedMail) -> Reply | None:
    """Our reply whose Message-ID the mail's In-Reply-To or References name (the newest one)."""
    ids = _MSGID.findall(f"{mail.references or ''} {mail.in_reply_to or ''}")[-_MAX_IDS:]
    if not ids:
        return None
    return session.scalars(
        select(Reply).where(Reply.reply_message_id.in_(ids)).order_by(Reply.id.desc()).limit(1)
    ).first()


def own_text(mail: ParsedMail) -> str:
    """What the sender wrote above the quoted mail, without a phone's signature line, on one line."""
    return _SPACES.sub(" ", SIGNATURE.sub(" ", above_quote(mail.text, mail.html))).strip()


def _carries_something(kind: MailboxKind, files: Sequence[FileView], links: Sequence[LargeLink], words: str) -> bool:
    if links or any(f.note is None for f in files):
        return True
    return kind is MailboxKind.SERVICE_PLATFORM and URL.search(words) is not None


def conversation(
    session: Session,
    *,
    mail: ParsedMail,
    reply: Reply | None,
    kind: MailboxKind,
    files: Sequence[FileView],
    links: Sequence[LargeLink],
) -> Conversation | None:
    """The conversation a mail is, when it answers one of our replies (reply: ours that its headers
    name, see answered) and carries nothing new; else None."""
    if reply is None and not (quotes_our_reply(mail.text, mail.html) or has_our_suffix(mail.subject)):
        return None
    words = own_text(mail)
    if _carries_something(kind, files, links, words):
        return None
    if reply is not None:
        why = f"对本服务{_KIND_NAMES[reply.kind]}（第 {reply.message_id} 号邮件）的答复，未附新的报送材料"
    else:
        why = "引用了本服务的回复，未附新的报送材料"
    first = words if len(words) <= FIRST_WORDS else words[: FIRST_WORDS - 1] + "…"
    decision = Decision(status=MessageStatus.CONVERSATION, ignored=why, remarks=(f"来信：{first}",) if first else ())
    unit = session.scalar(select(Message.unit).where(Message.id == reply.message_id)) if reply is not None else None
    return Conversation(decision=decision, unit=unit)
