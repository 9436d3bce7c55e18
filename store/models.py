"""The typed SQL tables: messages, their attachments, replies, mailbox state, digests, workers and leases,
and the workbench's accounts, audit events and selections."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from store.enums import (
    ArrivalSource,
    AttachmentKind,
    AuditAction,
    CountSource,
    DigestStatus,
    MessageStatus,
    ReplyKind,
    ReplyStatus,
    Role,
    SelectionStage,
    Stage,
    WorkRole,
)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _clean(value: Any) -> Any:
    """Text every database accepts: no NUL (PostgreSQL refuses it), no lone surrogates."""
    if isinstance(value, str):
        return _UNSTORABLE.sub("\ufffd", value) if _UNSTORABLE.search(value) else value
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items()}
    return value


class CleanText(TypeDecorator[str]):
    """Text from senders, stored safely."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return _clean(value) if value is not None else None


class CleanJSON(TypeDecorator[Any]):
    """JSON that may hold sender text, stored safely."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        return _clean(value)


def _enum(cls: type[Any], name: str, *, length: int = 32) -> Enum:
    return Enum(
        cls,
        name=name,
        native_enum=False,
        length=length,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Message(Base):
    """One message fetched from a mailbox (or imported from a file)."""

    __tablename__ = "messages"
    __table_args__ = (UniqueConstraint("mailbox", "uidvalidity", "uid", name="uq_messages_mailbox_uid"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mailbox: Mapped[str] = mapped_column(String(100), index=True)
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    uid: Mapped[int] = mapped_column(BigInteger)
    raw_sha256: Mapped[str | None] = mapped_column(String(64))
    raw_size: Mapped[int] = mapped_column(BigInteger)  # the size the server reported
    oversize: Mapped[bool] = mapped_column(Boolean, default=False)  # only the header was fetched
    message_id: Mapped[str | None] = mapped_column(CleanText, index=True)
    sender: Mapped[str | None] = mapped_column(CleanText, index=True)
    subject: Mapped[str | None] = mapped_column(CleanText)
    raw_subject: Mapped[str | None] = mapped_column(CleanText)
    unit: Mapped[str | None] = mapped_column(String(200), index=True)
    title: Mapped[str | None] = mapped_column(CleanText)
    status: Mapped[MessageStatus] = mapped_column(_enum(MessageStatus, "message_status"), index=True)
    reasons: Mapped[list[str]] = mapped_column(CleanJSON, default=list)
    notes: Mapped[list[str]] = mapped_column(CleanJSON, default=list)
    # 0005: what the rules noted for the hosts only (camera facts, silent sound, subtitle tracks)
    remarks: Mapped[list[str]] = mapped_column(CleanJSON, default=list, server_default="[]")
    large_attachment_links: Mapped[list[dict[str, Any]]] = mapped_column(CleanJSON, default=list)
    activity_count: Mapped[int | None] = mapped_column(Integer)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    failure_stage: Mapped[Stage | None] = mapped_column(_enum(Stage, "failure_stage"))
    failure_traceback: Mapped[str | None] = mapped_column(CleanText)
    date_header: Mapped[str | None] = mapped_column(CleanText)
    references: Mapped[str | None] = mapped_column("references_header", CleanText)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)  # when we stored it
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # 0004: when the provider received it (deadlines, "late", the reply's wording) and how that is known;
    # a second delivery of a stored submission points to the first and is never judged again.
    arrived_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    arrival_source: Mapped[ArrivalSource] = mapped_column(
        _enum(ArrivalSource, "arrival_source", length=16), default=ArrivalSource.STORED
    )
    duplicate_of: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"), index=True)
    # 0006: a collection mail that belongs to a work registered before (resend, supplement, new version)
    # points to the work's first message; the work counts once, with its newest version.
    work_of: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"), index=True)
    work_role: Mapped[WorkRole | None] = mapped_column(_enum(WorkRole, "work_role", length=16))
    # 0007: judging started this often, counted before each start (a process killed while judging
    # counts too), and whether the mailbox action (\Seen, move) was done after the outcome.
    starts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    filed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="message", cascade="all, delete-orphan", order_by="Attachment.position"
    )
    replies: Mapped[list[Reply]] = relationship(back_populates="message", cascade="all, delete-orphan")


class Submission(Base):
    """One submission's identity, held by the first message that carried it: the key is unique, so a
    second delivery (a resend, an import then the IMAP copy, a rescan) can only become a duplicate."""

    __tablename__ = "submissions"

    identity: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256, see ingest.identity
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Attachment(Base):
    """One file received with a message (or found inside an archive it carried)."""

    __tablename__ = "attachments"
    __table_args__ = (UniqueConstraint("message_id", "position", name="uq_attachments_message_position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str | None] = mapped_column(CleanText)  # as sent, decoded
    display_name: Mapped[str] = mapped_column(CleanText)  # safe to show anywhere
    container: Mapped[str | None] = mapped_column(CleanText)  # display name of the archive it came from
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    mime: Mapped[str] = mapped_column(String(255))
    label: Mapped[str] = mapped_column(String(255), default="")
    kind: Mapped[AttachmentKind] = mapped_column(_enum(AttachmentKind, "attachment_kind"))
    inline: Mapped[bool] = mapped_column(Boolean, default=False)
    valid: Mapped[bool] = mapped_column(Boolean)
    counted: Mapped[bool] = mapped_column(Boolean, default=True)
    problems: Mapped[list[str]] = mapped_column(CleanJSON, default=list)
    facts: Mapped[dict[str, Any]] = mapped_column(CleanJSON, default=dict)
    note: Mapped[str | None] = mapped_column(CleanText)  # 0004: why a picture is no photo (a logo, 1×1)

    message: Mapped[Message] = relationship(back_populates="attachments")


class Reply(Base):
    """An automatic answer, written with the verdict and sent afterwards."""

    __tablename__ = "replies"
    __table_args__ = (UniqueConstraint("message_id", "kind", name="uq_replies_message_kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    kind: Mapped[ReplyKind] = mapped_column(_enum(ReplyKind, "reply_kind"))
    status: Mapped[ReplyStatus] = mapped_column(_enum(ReplyStatus, "reply_status"), index=True)
    recipient: Mapped[str] = mapped_column(String(320))
    reply_message_id: Mapped[str] = mapped_column(String(255), unique=True)
    in_reply_to: Mapped[str | None] = mapped_column(CleanText)
    references: Mapped[str | None] = mapped_column(CleanText)
    subject: Mapped[str] = mapped_column(CleanText)
    body_text: Mapped[str] = mapped_column(CleanText)
    body_html: Mapped[str] = mapped_column(CleanText)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    leased_by: Mapped[str | None] = mapped_column(String(64))  # 0007: the worker sending it now
    # 0009: when the reply took its place under the caps (let out to be sent); None while it waits its turn
    # (new or held) and for a suppressed one
    counted_at: Mapped[dt.datetime | None] = mapped_column(DateTime, index=True)
    # 0009: its recipient matched no unit's allowed senders and had no accepted mail or sent reply before
    first_contact: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    message: Mapped[Message] = relationship(back_populates="replies")


class MailboxState(Base):
    """What the poller knows of one mailbox between runs."""

    __tablename__ = "mailbox_state"

    mailbox: Mapped[str] = mapped_column(String(100), primary_key=True)
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    last_poll_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_ok_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    consecutive_errors: Mapped[int] = mapped_column(Integer, default=0)
    retry_at: Mapped[dt.datetime | None] = mapped_column(DateTime)  # 0007: no poll before this (backoff)
    last_host: Mapped[str | None] = mapped_column(String(255))  # 0007: the IMAP server of the last poll


class Worker(Base):
    """A running process (`intake run`, or a one-off command that sends replies) and its heartbeat."""

    __tablename__ = "workers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    beat_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    holds: Mapped[str] = mapped_column(Text, default="", server_default="")  # the locks it held at its last beat


class Lease(Base):
    """A named lock held by a live worker (used where the database has no advisory locks: SQLite)."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(64))
    taken_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class DigestRun(Base):
    """One daily digest: the date is unique, so it goes out once whatever the workers do."""

    __tablename__ = "digests"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    status: Mapped[DigestStatus] = mapped_column(_enum(DigestStatus, "digest_status", length=16))
    claimed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    message_id: Mapped[str | None] = mapped_column(String(255))
    # 0002: the claim's holder (a stale claim is taken over), tries, the last error, the recipients
    # already sent to (a takeover sends only to the others) and the last message the digest covered.
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_to: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    through_message_id: Mapped[int | None] = mapped_column(Integer)


class ActivityCount(Base):
    """How many offline activities one report states (read once from its raw bytes), and why an admin
    corrected the count (the corrected number itself is Message.activity_count)."""

    __tablename__ = "activity_counts"

    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True)
    rule: Mapped[int] = mapped_column(Integer)  # version of the counting rule that read it
    stated: Mapped[int | None] = mapped_column(Integer)  # the number the report states, if any
    phrase: Mapped[str | None] = mapped_column(CleanText)  # the words that state it
    source: Mapped[CountSource | None] = mapped_column(  # 0008: where it was read (None: not read yet)
        _enum(CountSource, "count_source", length=16), nullable=True
    )
    read_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    note: Mapped[str | None] = mapped_column(CleanText)  # the admin's reason for a correction
    corrected_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class User(Base):
    """0010: an account of the hosts' workbench (`intake users add`); never deleted, only disabled."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)  # lower case
    role: Mapped[Role] = mapped_column(_enum(Role, "user_role", length=16))
    collections: Mapped[list[str]] = mapped_column(JSON, default=list)  # mailbox kinds a host sees
    password_hash: Mapped[str] = mapped_column(String(255))  # argon2id
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class AuditEvent(Base):
    """0010: one change a person made: who, when, what, why; shown on the page of the thing changed."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(320))  # the account's email, or "cli:<login>" for the command line
    action: Mapped[AuditAction] = mapped_column(_enum(AuditAction, "audit_action"))
    target: Mapped[str] = mapped_column(String(200), index=True)  # "message:12", "user:a@b.cn"
    summary: Mapped[str] = mapped_column(CleanText)  # what changed, in Chinese, as the page shows it
    reason: Mapped[str] = mapped_column(CleanText, default="")
    details: Mapped[dict[str, Any]] = mapped_column(CleanJSON, default=dict)


class Selection(Base):
    """0010: how far one work (its first message) has come in the selection, with the last comment."""

    __tablename__ = "selections"

    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True)
    stage: Mapped[SelectionStage] = mapped_column(_enum(SelectionStage, "selection_stage", length=16), index=True)
    comment: Mapped[str] = mapped_column(CleanText, default="")
    by: Mapped[str] = mapped_column(String(320))
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
