"""Read-only queries shared by the CLI, the digest and the tests."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from store.enums import MessageStatus
from store.models import Message


def messages(
    session: Session,
    *,
    status: MessageStatus | None = None,
    mailbox: str | None = None,
    ids: Sequence[int] | None = None,
) -> list[Message]:
    """Messages with their attachments and replies loaded, oldest first."""
    query = select(Message).options(selectinload(Message.attachments), selectinload(Message.replies))
    if status is not None:
        query = query.where(Message.status == status)
    if mailbox is not None:
        query = query.where(Message.mailbox == mailbox)
    if ids is not None:
        query = query.where(Message.id.in_(list(ids)))
    return list(session.scalars(query.order_by(Message.id)))
