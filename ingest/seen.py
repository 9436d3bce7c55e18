"""What the store has already seen: a submission's identity, held once, files and works accepted before.

The identity is a primary key (`submissions`): of two workers judging two copies at once, the second
waits for the first's transaction and then finds its row (INSERT … ON CONFLICT DO NOTHING), so a
second delivery can only ever become a duplicate of the first.
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
from ingest.rules.registration import Registered
from store.enums import MessageStatus
from store.models import Attachment, Message, Submission, utcnow


def claim(session: Session, msg: Message, *, address: str, mail: ParsedMail, raw: bytes | Path) -> int | None:
    """Hold this message's identity (raw: the message or its file); the id of the message that already
    holds it, else None."""
    if msg.duplicate_of is not None:
        return msg.duplicate_of
    key = identity(address=address, message_id=mail.message_id, sender=mail.sender, raw=raw)
    values = {"identity": key, "message_id": msg.id, "created_at": utcnow()}
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(postgresql.insert(Submission).values(**values).on_conflict_do_nothing())
    elif dialect == "sqlite":
        session.execute(sqlite.insert(Submission).values(**values).on_conflict_do_nothing())
    elif session.get(Submission, key) is None:
        session.add(Submission(**values))
        session.flush()
    owner = session.scalar(select(Submission.message_id).where(Submission.identity == key))
    return owner if owner is not None and owner != msg.id else None


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
