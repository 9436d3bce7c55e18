"""A mail in our own thread as a submission: what of it is the sender's, and the earlier mail it completes.

A mail answers us when its In-Reply-To or References name one of our replies, or when its body
quotes one (our closing line). Its description is then only what the sender wrote above the quoted
thread: our own words never count as theirs. When it answers our reply to an earlier mail of the same
unit in the same mailbox (a unit sending the photos its rejected report lacked), and its own words
are no description, the earlier mail's description counts: read again from that mail's stored raw
message, by the same parse limits and through the same description_text, or from the text of the
report documents recorded with it. One step back only: the earlier mail's own words, never what it
leaned on in turn.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from campaign.notice import local
from ingest import activities
from ingest.mail.ours import quotes_our_reply
from ingest.mail.parse import ParsedMail, ParseLimitExceeded
from ingest.mail.quoted import above_quote
from ingest.rules.content import description_text, enough_words, words_describe
from ingest.rules.views import EarlierDescription
from store.models import Message, Reply

#: parses a stored raw message (by its sha256) into this directory, within the judging's limits
Reader = Callable[[str, Path], ParsedMail]


@dataclass(frozen=True, kw_only=True)
class InThread:
    """What the rules need to know of a mail's place in our thread."""

    answers_us: bool  # it answers one of our replies (by its headers or by quoting us)
    earlier: EarlierDescription | None  # the same unit's described mail our reply answered


def in_thread(
    session: Session, *, msg: Message, mail: ParsedMail, reply: Reply | None, read: Reader, workdir: Path
) -> InThread:
    """Whether the mail answers us (reply: ours that its headers name), and the earlier mail of the
    same unit and mailbox it may complete. The earlier mail is read again only when it can matter:
    the mail's own words above the quote are no description."""
    answers_us = reply is not None or quotes_our_reply(mail.text, mail.html)
    if reply is None or msg.unit is None:
        return InThread(answers_us=answers_us, earlier=None)
    if words_describe(text=above_quote(mail.text, mail.html), html=""):
        return InThread(answers_us=True, earlier=None)
    earlier = session.get(Message, reply.message_id)
    if (
        earlier is None
        or earlier.id == msg.id
        or earlier.mailbox != msg.mailbox
        or earlier.unit != msg.unit
        or earlier.raw_sha256 is None
        or earlier.oversize
    ):
        return InThread(answers_us=True, earlier=None)
    if not _described(session, earlier, read=read, workdir=workdir):
        return InThread(answers_us=True, earlier=None)
    day = local(earlier.arrived_at).date()
    return InThread(answers_us=True, earlier=EarlierDescription(message_id=earlier.id, day=day))


def _described(session: Session, earlier: Message, *, read: Reader, workdir: Path) -> bool:
    """Whether the earlier mail itself had a description: its own words, or a report document's text."""
    if any(enough_words(text) for text in activities.stored_texts(session, earlier.id)):
        return True
    assert earlier.raw_sha256 is not None
    place = workdir / f"earlier-{earlier.id}"
    place.mkdir(exist_ok=True)
    try:
        mail = read(earlier.raw_sha256, place)
    except (ParseLimitExceeded, OSError):  # too large to read again, or its raw file is gone: none
        return False
    return enough_words(description_text(text=mail.text, html=mail.html))
