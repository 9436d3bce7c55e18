"""The workbench's accounts: add, list, disable, and check a password (argon2id hashes).

Used by `intake users` and by the login page; each change is written to the audit log in the same
transaction. An address is kept in lower case; an account is never deleted, only disabled, so the
audit log's names keep meaning someone.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from campaign.notice import KIND_SHORT, MailboxKind
from store.audit import record, user_target
from store.enums import AuditAction, Role
from store.models import User, utcnow

HASHER = PasswordHasher()
MIN_PASSWORD = 10


@functools.cache
def _dummy() -> str:
    """A hash checked for unknown addresses, so that they take the same work (made at the first login)."""
    return HASHER.hash("an unused password, checked for unknown addresses")


class AccountError(ValueError):
    """An account cannot be added or changed; the text says why (one line)."""


@dataclass(frozen=True, kw_only=True)
class Account:
    """One account as the workbench and its permissions see it."""

    id: int
    email: str
    role: Role
    collections: frozenset[MailboxKind]
    active: bool = True
    last_login_at: dt.datetime | None = None

    @property
    def described(self) -> str:
        if self.role is Role.PROVINCE:
            return "省总工会（全部征集）"
        names = "、".join(KIND_SHORT[k] for k in MailboxKind if k in self.collections)
        return f"承办单位（{names}）"


def _account(user: User) -> Account:
    return Account(
        id=user.id,
        email=user.email,
        role=user.role,
        collections=frozenset(MailboxKind(k) for k in user.collections),
        active=user.active,
        last_login_at=user.last_login_at,
    )


def add(
    sessions: sessionmaker[Session],
    *,
    email: str,
    role: Role,
    collections: tuple[MailboxKind, ...],
    password: str,
    actor: str,
) -> Account:
    """A new account; a host needs at least one collection, the province none (it sees everything)."""
    email = email.strip().lower()
    if "@" not in email or len(email) > 320 or any(c.isspace() for c in email):
        raise AccountError(f"not an email address: {email!r}")
    if role is Role.HOST and not collections:
        raise AccountError("a host needs at least one --collection KIND")
    if role is Role.PROVINCE and collections:
        raise AccountError("the province sees every collection: give no --collection")
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password must have at least {MIN_PASSWORD} characters")
    with sessions.begin() as session:
        if session.scalar(select(User.id).where(User.email == email)) is not None:
            raise AccountError(f"an account {email} exists already")
        user = User(
            email=email,
            role=role,
            collections=sorted({k.value for k in collections}),
            password_hash=HASHER.hash(password),
            active=True,
        )
        session.add(user)
        session.flush()
        account = _account(user)
        record(
            session,
            actor=actor,
            action=AuditAction.USER_ADDED,
            target=user_target(email),
            summary=f"新增账号 {email}：{account.described}",
        )
        return account


def listing(sessions: sessionmaker[Session]) -> list[Account]:
    with sessions() as session:
        return [_account(u) for u in session.scalars(select(User).order_by(User.email))]


def disable(sessions: sessionmaker[Session], *, email: str, actor: str) -> Account:
    """Disable an account: its sessions end at their next request, its password no longer works."""
    email = email.strip().lower()
    with sessions.begin() as session:
        user = session.scalar(select(User).where(User.email == email))
        if user is None:
            raise AccountError(f"no account {email}")
        if user.active:
            user.active = False
            record(
                session, actor=actor, action=AuditAction.USER_DISABLED, target=user_target(email), summary="停用账号"
            )
        return _account(user)


def active(sessions: sessionmaker[Session], user_id: int) -> Account | None:
    """The account behind a session, or None when it is gone or disabled."""
    with sessions() as session:
        user = session.get(User, user_id)
        return _account(user) if user is not None and user.active else None


def authenticate(sessions: sessionmaker[Session], *, email: str, password: str) -> Account | None:
    """The account whose password this is, or None (an unknown address costs the same time)."""
    email = email.strip().lower()
    with sessions.begin() as session:
        user = session.scalar(select(User).where(User.email == email))
        try:
            HASHER.verify(user.password_hash if user is not None else _dummy(), password)
        except (VerificationError, InvalidHashError):
            return None
        if user is None or not user.active:
            return None
        if HASHER.check_needs_rehash(user.password_hash):
            user.password_hash = HASHER.hash(password)
        user.last_login_at = utcnow()
        return _account(user)
