"""The audit log: the one call that records a change a person made, and the history of one thing.

Every change made through the workbench or the command line (a verdict changed, a work selected,
an account added or disabled) is written by `record`, in the same transaction as the change itself,
so the log never claims a change that was rolled back, nor misses one that was committed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.enums import AuditAction
from store.models import AuditEvent, utcnow


def message_target(message_id: int) -> str:
    return f"message:{message_id}"


def user_target(email: str) -> str:
    return f"user:{email}"


def record(
    session: Session,
    *,
    actor: str,
    action: AuditAction,
    target: str,
    summary: str,
    reason: str = "",
    details: dict[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> AuditEvent:
    """Add one audit event to the session's transaction (committed with the change it describes)."""
    event = AuditEvent(
        at=at or utcnow(),
        actor=actor[:320],
        action=action,
        target=target[:200],
        summary=summary,
        reason=reason,
        details=details or {},
    )
    session.add(event)
    return event


@dataclass(frozen=True, kw_only=True)
class Entry:
    """One line of a thing's history, as a page shows it."""

    at: dt.datetime  # UTC, naive
    actor: str
    action: AuditAction
    summary: str
    reason: str


def history(session: Session, target: str) -> tuple[Entry, ...]:
    """What people changed on one thing, oldest first."""
    rows = session.scalars(select(AuditEvent).where(AuditEvent.target == target).order_by(AuditEvent.id))
    return tuple(Entry(at=e.at, actor=e.actor, action=e.action, summary=e.summary, reason=e.reason) for e in rows)
