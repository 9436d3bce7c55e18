"""What the store has already seen: a submission's identity, held once, files and works accepted before.

The identity is a primary key (`submissions`), looked up before judging and written last, just before
the verdict commits: of two processes judging two copies at once, the second waits there for the
first's commit and then finds its row (INSERT … ON CONFLICT DO NOTHING), is rolled back and judged
again, and so a second delivery can only ever become a duplicate of the first.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from campaign.notice import name_key
from ingest.identity import identity
from ingest.mail.parse import ParsedMail
from ingest.rules.case import Registered
from store.enums import MessageStatus
from store.models import Attachment, Message, Submission, utcnow


class ClaimedMeanwhile(RuntimeError):
    """Another message took this identity while this one was being judged: judge it again (a duplicate)."""


def identity_of(msg: Message, *, address: str, mail: ParsedMail, raw: bytes | Path) -> str:
    """The identity msg is held under (raw: the message or its file)."""
    return identity(address=address, message_id=mail.message_id, sender=mail.sender, raw=raw)


def holder(session: Session, msg: Message, key: str) -> int | None:
    """The id of the message that already holds this identity, when it is not msg itself."""
    if msg.duplicate_of is not None:
        return msg.duplicate_of
    owner = session.scalar(select(Submission.message_id).where(Submission.identity == key))
    return owner if owner is not None and owner != msg.id else None


def claim(session: Session, msg: Message, key: str) -> None:
    """Hold the identity for msg, as the last write of its verdict's transaction (so that the write lock
    is held only while committing); raises ClaimedMeanwhile when another message took it first (a
    second worker waits here for the first one's commit, then finds its row)."""
    values = {"identity": key, "message_id": msg.id, "created_at": utcnow()}
    dialect = session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(Submission)
        result = session.execute(insert.values(**values).on_conflict_do_nothing())
        if getattr(result, "rowcount", 0) == 1:
            return  # ours: no need to read it back
    elif session.get(Submission, key) is None:
        session.add(Submission(**values))
        session.flush()
    if holder(session, msg, key) is not None:
        raise ClaimedMeanwhile(f"message {msg.id}: its identity was taken meanwhile")


def record_duplicate(msg: Message, original: int) -> MessageStatus:
    """Mark msg as a second delivery of message `original`: no verdict, no files, no reply."""
    same = "Message-ID 与发件人相同" if msg.message_id else "内容相同"
    msg.duplicate_of = original
    msg.status = MessageStatus.DUPLICATE
    msg.reasons = [f"重复投递：与第 {original} 号邮件是同一封邮件（{same}），不再判定，也不再回复"]
    msg.notes = []
    msg.decided_at = utcnow()
    return MessageStatus.DUPLICATE


def accepted_before(session: Session, msg: Message, *, sha256: str, mailboxes: Sequence[str]) -> bool:
    """Whether a file with these bytes was already accepted and counted from msg's unit in one of
    `mailboxes` (those of msg's mailbox kind: a report's photo is no photography work)."""
    if msg.unit is None:
        return False
    found = session.scalar(
        select(Attachment.id)
        .join(Message)
        .where(
            Attachment.sha256 == sha256,
            Attachment.counted.is_(True),
            Message.unit == msg.unit,
            Message.mailbox.in_(list(mailboxes)),
            Message.status == MessageStatus.ACCEPTED,
            Message.id != msg.id,
        )
        .limit(1)
    )
    return found is not None


def registered_work(
    session: Session, msg: Message, *, shas: Sequence[str], mailboxes: Sequence[str]
) -> Registered | None:
    """The work msg's unit registered before in `mailboxes` (those of msg's kind) that msg is about:
    one whose accepted mails carry one of these files, else one with the same title."""
    if msg.unit is None:
        return None
    earlier = (
        select(Message)
        .where(
            Message.unit == msg.unit,
            Message.mailbox.in_(list(mailboxes)),
            Message.status == MessageStatus.ACCEPTED,
            Message.id != msg.id,
        )
        .order_by(Message.id)
    )
    found: Message | None = None
    if shas:
        found = session.scalars(
            earlier.where(
                Message.id.in_(
                    select(Attachment.message_id).where(Attachment.sha256.in_(list(shas)), Attachment.counted.is_(True))
                )
            ).limit(1)
        ).first()
    if found is None and msg.title:
        wanted = name_key(msg.title)
        found = next(
            (
                m
                for m in session.scalars(earlier.where(Message.title.is_not(None)))
                if name_key(m.title or "") == wanted
            ),
            None,
        )
    if found is None:
        return None
    root = session.get(Message, found.work_of) if found.work_of is not None else found
    root = root or found
    return Registered(message_id=root.id, title=root.title, arrived_at=root.arrived_at)
