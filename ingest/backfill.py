"""Identities for messages stored before submissions had one (schema 0004), so that old and new mail
behave the same: a message accepted by an earlier release, delivered again, is a duplicate.

The identity is worked out as judging does (ingest.identity): the mailbox's receiving address from
the configuration, the Message-ID and sender read again from the stored raw message, or its content
when it has no Message-ID. Messages with a verdict take their identity first, oldest first (the
earliest wins when two old copies share one; the later copy keeps its verdict and is reported);
messages never judged or failed come after. A message whose raw file is missing gets the identity
of the Message-ID and sender stored with it; without a Message-ID it is reported and left alone.
Running it again does nothing: only messages without an identity are looked at.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from ingest.identity import identity
from ingest.mail.parse import HEADERS_ONLY_BYTES, parse_headers_only
from store.blobs import BlobStore
from store.enums import MessageStatus
from store.models import Message, Submission, utcnow

BATCH = 200
_DECIDED = (MessageStatus.ACCEPTED, MessageStatus.REJECTED, MessageStatus.IGNORED)


@dataclass(kw_only=True)
class Backfilled:
    """What one run did: identities given, how many from the stored Message-ID only (raw file missing),
    later copies found (message, the earlier message holding the identity), messages left without one."""

    given: int = 0
    without_raw: int = 0
    copies: list[tuple[int, int]] = field(default_factory=list)
    left: list[tuple[int, str]] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class _Row:
    id: int
    mailbox: str
    raw_sha256: str | None
    message_id: str | None
    sender: str | None


def _without_identity(session: Session, after: int, first: bool) -> list[_Row]:
    """The next batch of messages without an identity: with a verdict (first) or the others."""
    decided = Message.status.in_(_DECIDED)
    query = (
        select(Message.id, Message.mailbox, Message.raw_sha256, Message.message_id, Message.sender)
        .outerjoin(Submission, Submission.message_id == Message.id)
        .where(
            Submission.message_id.is_(None),
            Message.status != MessageStatus.DUPLICATE,
            Message.duplicate_of.is_(None),
            Message.id > after,
            decided if first else ~decided,
        )
        .order_by(Message.id)
        .limit(BATCH)
    )
    return [_Row(**row._asdict()) for row in session.execute(query)]


def _key(row: _Row, *, address: str, blobs: BlobStore, done: Backfilled) -> str | None:
    if row.raw_sha256 is not None:
        try:
            head = parse_headers_only(blobs.read_head(row.raw_sha256, HEADERS_ONLY_BYTES))
            return identity(
                address=address, message_id=head.message_id, sender=head.sender, raw=blobs.path(row.raw_sha256)
            )
        except FileNotFoundError:
            pass
    if row.message_id and row.message_id.strip():
        done.without_raw += 1
        return identity(address=address, message_id=row.message_id, sender=row.sender, raw=b"")
    done.left.append((row.id, "its raw message is missing and it has no Message-ID"))
    return None


def _hold(session: Session, key: str, message_id: int) -> int | None:
    """Give key to message_id; None when it took, else the message that holds it already."""
    values = {"identity": key, "message_id": message_id, "created_at": utcnow()}
    dialect = session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(Submission)
        result = session.execute(insert.values(**values).on_conflict_do_nothing(index_elements=["identity"]))
        if getattr(result, "rowcount", 0) == 1:
            return None
    elif session.get(Submission, key) is None:
        session.add(Submission(**values))
        session.flush()
        return None
    holder = session.scalar(select(Submission.message_id).where(Submission.identity == key))
    return None if holder == message_id else holder  # (an ORM insert may not report its row count)


def backfill_identities(
    *, sessions: sessionmaker[Session], blobs: BlobStore, addresses: Mapping[str, str]
) -> Backfilled:
    """Give every message without an identity its identity (see the module); addresses: mailbox name
    to receiving address, from the configuration."""
    done = Backfilled()
    for first in (True, False):
        after = 0
        while True:
            with sessions.begin() as session:
                rows = _without_identity(session, after, first)
                for row in rows:
                    address = addresses.get(row.mailbox)
                    if address is None:
                        done.left.append((row.id, f"its mailbox {row.mailbox!r} is not in the configuration"))
                        continue
                    key = _key(row, address=address, blobs=blobs, done=done)
                    if key is None:
                        continue
                    holder = _hold(session, key, row.id)
                    if holder is None:
                        done.given += 1
                    else:
                        done.copies.append((row.id, holder))
            if len(rows) < BATCH:
                break
            after = rows[-1].id
    return done
