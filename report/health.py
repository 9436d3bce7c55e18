"""The service's health for `intake status`: mailboxes, backlog, replies, digest, workers, and what needs attention."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from campaign.settings import Settings
from store.enums import DigestStatus, MessageStatus, ReplyStatus
from store.models import DigestRun, MailboxState, Message, Reply, Worker, utcnow


@dataclass(frozen=True, kw_only=True)
class MailboxHealth:
    name: str
    server: str
    last_ok_at: dt.datetime | None
    last_poll_at: dt.datetime | None
    last_error: str | None
    consecutive_failures: int
    retry_at: dt.datetime | None


@dataclass(frozen=True, kw_only=True)
class WorkerHealth:
    id: str
    host: str
    pid: int
    beat_at: dt.datetime
    alive: bool
    holds: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class Health:
    checked_at: dt.datetime
    mailboxes: tuple[MailboxHealth, ...]
    received: int
    oldest_received_at: dt.datetime | None
    failed: int
    replies_pending: int
    oldest_pending_at: dt.datetime | None
    replies_given_up: int
    replies_held: int  # held by a cap on replies, to go out when it allows
    held_first_contacts: int  # of those, replies to first contacts
    oldest_held_at: dt.datetime | None  # when the oldest held reply was written
    next_held_at: dt.datetime | None  # when the caps are next asked about a held reply
    last_digest_day: dt.date | None
    last_digest_sent_at: dt.datetime | None
    workers: tuple[WorkerHealth, ...]
    problems: tuple[str, ...]  # empty when healthy

    @property
    def healthy(self) -> bool:
        return not self.problems

    def as_json(self) -> dict[str, Any]:
        def value(v: Any) -> Any:
            if isinstance(v, dt.datetime):
                return v.isoformat() + "Z"
            if isinstance(v, dt.date):
                return v.isoformat()
            if isinstance(v, dict):
                return {k: value(x) for k, x in v.items()}
            if isinstance(v, list | tuple):
                return [value(x) for x in v]
            return v

        data: dict[str, Any] = value(asdict(self))
        data["healthy"] = self.healthy
        return data


def _minutes(since: dt.datetime | None, now: dt.datetime) -> float:
    return (now - since).total_seconds() / 60 if since is not None else 0.0


def health(*, settings: Settings, sessions: sessionmaker[Session], stale_seconds: float) -> Health:
    """Read everything `intake status` shows; nothing is written."""
    now = utcnow()
    limits = settings.status
    problems: list[str] = []
    with sessions() as session:
        states = {s.mailbox: s for s in session.scalars(select(MailboxState))}
        boxes: list[MailboxHealth] = []
        for box in settings.mailboxes:
            st = states.get(box.name)
            item = MailboxHealth(
                name=box.name,
                server=f"{box.host}:{box.port}",
                last_ok_at=st.last_ok_at if st else None,
                last_poll_at=st.last_poll_at if st else None,
                last_error=st.last_error if st else None,
                consecutive_failures=st.consecutive_errors if st else 0,
                retry_at=st.retry_at if st else None,
            )
            boxes.append(item)
            if limits.poll_failures and item.consecutive_failures >= limits.poll_failures:
                problems.append(
                    f"mailbox {box.name} ({item.server}): {item.consecutive_failures} failed polls in a row: "
                    f"{item.last_error}"
                )
            elif limits.poll_age_minutes and item.last_poll_at is not None:
                age = _minutes(item.last_ok_at or item.last_poll_at, now)
                allowed = max(limits.poll_age_minutes, 3 * box.poll_seconds / 60)  # a slow schedule is not a fault
                if item.last_ok_at is None:
                    problems.append(f"mailbox {box.name} ({item.server}): never polled successfully: {item.last_error}")
                elif age > allowed:
                    problems.append(f"mailbox {box.name} ({item.server}): no good poll for {age:.0f} minutes")
        received, oldest_received = _count(session, Message.status == MessageStatus.RECEIVED, Message.received_at)
        failed, _ = _count(session, Message.status == MessageStatus.FAILED, Message.received_at)
        pending, oldest_pending = _count(session, Reply.status == ReplyStatus.PENDING, Reply.created_at)
        given_up, _ = _count(session, Reply.status == ReplyStatus.FAILED, Reply.created_at)
        held_row = session.execute(
            select(
                func.count(),
                func.min(Reply.created_at),
                func.min(Reply.next_attempt_at),
                func.count().filter(Reply.first_contact.is_(True)),
            ).where(Reply.status == ReplyStatus.HELD)
        ).one()
        held, oldest_held, next_held, held_first = int(held_row[0]), held_row[1], held_row[2], int(held_row[3] or 0)
        last = session.scalars(
            select(DigestRun).where(DigestRun.status == DigestStatus.SENT).order_by(DigestRun.day.desc()).limit(1)
        ).first()
        cutoff = now - dt.timedelta(seconds=stale_seconds)
        workers = tuple(
            WorkerHealth(
                id=w.id,
                host=w.host,
                pid=w.pid,
                beat_at=w.beat_at,
                alive=w.beat_at >= cutoff,
                holds=tuple(w.holds.split()),
            )
            for w in session.scalars(select(Worker).order_by(Worker.started_at))
        )
    if limits.failed_messages and failed >= limits.failed_messages:
        problems.append(f"{failed} message(s) failed: see `intake messages --status failed`, then `intake rerun`")
    if limits.received_minutes and oldest_received and _minutes(oldest_received, now) > limits.received_minutes:
        problems.append(
            f"{received} message(s) stored but not judged, the oldest for {_minutes(oldest_received, now):.0f} minutes"
        )
    if limits.given_up_replies and given_up >= limits.given_up_replies:
        problems.append(f"{given_up} reply(ies) given up: see the digest or `intake messages --json`")
    if limits.held_replies and held >= limits.held_replies and oldest_held is not None:
        problems.append(
            f"{held} reply(ies) held by the caps on replies since {oldest_held:%Y-%m-%d %H:%M} UTC "
            f"({held_first} to first contacts): they go out when the caps allow; see `intake messages --json`"
        )
    if limits.reply_age_minutes and oldest_pending and _minutes(oldest_pending, now) > limits.reply_age_minutes:
        problems.append(
            f"{pending} reply(ies) pending, the oldest for {_minutes(oldest_pending, now):.0f} minutes: is SMTP down?"
        )
    if limits.digest_age_hours:
        since = last.sent_at if last else None
        if since is None or _minutes(since, now) > limits.digest_age_hours * 60:
            problems.append(f"no digest sent for more than {limits.digest_age_hours} hours")
    return Health(
        checked_at=now,
        mailboxes=tuple(boxes),
        received=received,
        oldest_received_at=oldest_received,
        failed=failed,
        replies_pending=pending,
        oldest_pending_at=oldest_pending,
        replies_given_up=given_up,
        replies_held=held,
        held_first_contacts=held_first,
        oldest_held_at=oldest_held,
        next_held_at=next_held,
        last_digest_day=last.day if last else None,
        last_digest_sent_at=last.sent_at if last else None,
        workers=workers,
        problems=tuple(problems),
    )


def _count(session: Session, where: Any, when: Any) -> tuple[int, dt.datetime | None]:
    table = when.class_
    row = session.execute(select(func.count(), func.min(when)).select_from(table).where(where)).one()
    return int(row[0]), row[1]
