"""The hosts' daily digest as an email, and sending it once per date.

The content is built by `report.digest` and handed over as a DigestView (notify.digest_view); this
module only shapes
the email (multipart/alternative, Chinese, `Auto-Submitted: auto-generated`) and makes sure each date's
digest goes out once whatever the workers do: the date is the primary key of the digests table, the
first worker to insert it holds the claim; a failed try, or a claim left by a worker that died (older
than LEASE), is taken over by a conditional update, and the recipients already sent to are skipped.
"""

from __future__ import annotations

import datetime as dt
import enum
import os
import secrets
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid
from typing import Any, cast

from sqlalchemy import CursorResult, and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from campaign.notice import OWN_HEADER
from campaign.settings import SmtpSettings
from notify.digest_view import DigestView
from notify.render import Renderer
from notify.safe import clean_header
from notify.smtp import SmtpConnection
from store.enums import DigestStatus
from store.models import DigestRun, utcnow

LEASE = dt.timedelta(minutes=10)  # a claim older than this was left by a worker that died


def compose_digest(*, renderer: Renderer, view: DigestView, sender: str, recipients: Sequence[str]) -> EmailMessage:
    """The digest as one multipart/alternative message (plain text and HTML) to all recipients."""
    rendered = renderer.render("digest", view.context())
    msg = EmailMessage(policy=SMTP)
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Subject"] = clean_header(rendered.subject, max_chars=250)
    msg["Date"] = format_datetime(dt.datetime.now(dt.UTC))
    domain = sender.rpartition("@")[2] or "localhost"
    msg["Message-ID"] = make_msgid(idstring=f"intake.digest.{view.day}", domain=domain)
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Auto-Response-Suppress"] = "All"
    msg[OWN_HEADER] = "digest"
    msg.set_content(rendered.text, charset="utf-8")
    msg.add_alternative(rendered.html, subtype="html", charset="utf-8")
    return msg


# -- once per date -------------------------------------------------------------------------------------


class Outcome(enum.StrEnum):
    SENT = "sent"
    ALREADY_SENT = "already sent"
    IN_PROGRESS = "being sent by another worker"


@dataclass(frozen=True, kw_only=True)
class Claim:
    """This worker's right to send one date's digest."""

    day: dt.date
    token: str
    late: bool
    done: frozenset[str]  # recipients a previous try already sent it to


def _token() -> str:
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{secrets.token_hex(6)}"[:64]


def claim(
    sessions: sessionmaker[Session],
    *,
    day: dt.date,
    late: bool,
    now: dt.datetime | None = None,
    lease: dt.timedelta = LEASE,
) -> Claim | Outcome:
    """Claim day's digest: a Claim to send it, or why not (sent already, or another worker holds it)."""
    stamp = now or utcnow()
    token = _token()
    try:
        with sessions.begin() as session:
            session.add(
                DigestRun(
                    day=day,
                    status=DigestStatus.CLAIMED,
                    claimed_at=stamp,
                    claimed_by=token,
                    late=late,
                    attempts=1,
                    sent_to=[],
                )
            )
        return Claim(day=day, token=token, late=late, done=frozenset())
    except IntegrityError:
        pass
    with sessions.begin() as session:
        result = cast(
            CursorResult[Any],
            session.execute(
                update(DigestRun)
                .where(
                    DigestRun.day == day,
                    or_(
                        DigestRun.status == DigestStatus.FAILED,
                        and_(DigestRun.status == DigestStatus.CLAIMED, DigestRun.claimed_at < stamp - lease),
                    ),
                )
                .values(
                    status=DigestStatus.CLAIMED,
                    claimed_at=stamp,
                    claimed_by=token,
                    late=late,
                    attempts=DigestRun.attempts + 1,
                )
                .execution_options(synchronize_session=False)
            ),
        )
        row = session.execute(
            select(DigestRun.status, DigestRun.claimed_by, DigestRun.sent_to).where(DigestRun.day == day)
        ).one()
    if result.rowcount == 1 and row.claimed_by == token:
        return Claim(day=day, token=token, late=late, done=frozenset(row.sent_to or []))
    return Outcome.ALREADY_SENT if row.status == DigestStatus.SENT else Outcome.IN_PROGRESS


def _mine(session: Session, held: Claim) -> DigestRun | None:
    row = session.get(DigestRun, held.day, with_for_update=True)
    return row if row is not None and row.claimed_by == held.token and row.status == DigestStatus.CLAIMED else None


def deliver(
    sessions: sessionmaker[Session],
    *,
    smtp: SmtpSettings,
    held: Claim,
    message: EmailMessage,
    recipients: Sequence[str],
) -> None:
    """Send to every recipient not yet sent to, recording each one as soon as the server took it."""
    done = set(held.done)
    todo = [r for r in recipients if r not in done]
    if not todo:
        return
    with SmtpConnection(settings=smtp) as conn:
        for rcpt in todo:
            conn.send(message, recipient=rcpt)
            done.add(rcpt)
            with sessions.begin() as session:
                row = _mine(session, held)
                if row is not None:
                    row.sent_to = sorted(done)


def finish(sessions: sessionmaker[Session], *, held: Claim, message_id: str, through_message_id: int | None) -> None:
    with sessions.begin() as session:
        row = _mine(session, held)
        if row is not None:
            row.status = DigestStatus.SENT
            row.sent_at = utcnow()
            row.message_id = message_id[:255]
            row.through_message_id = through_message_id
            row.last_error = None


def fail(sessions: sessionmaker[Session], *, held: Claim, error: str) -> None:
    """Give the claim up after an error: any worker may try again (the catch-up does every few minutes)."""
    with sessions.begin() as session:
        row = _mine(session, held)
        if row is not None:
            row.status = DigestStatus.FAILED
            row.last_error = error[:2000]


def previous_sent(session: Session, *, day: dt.date) -> DigestRun | None:
    """The last digest sent for a date before day."""
    return session.scalar(
        select(DigestRun)
        .where(DigestRun.day < day, DigestRun.status == DigestStatus.SENT)
        .order_by(DigestRun.day.desc())
        .limit(1)
    )


def any_digest(session: Session) -> bool:
    """Whether any digest was ever claimed: a fresh installation has nothing to catch up."""
    return session.scalar(select(DigestRun.day).limit(1)) is not None


def state(session: Session, *, day: dt.date) -> DigestRun | None:
    return session.get(DigestRun, day)


def send_once(
    sessions: sessionmaker[Session],
    *,
    smtp: SmtpSettings,
    day: dt.date,
    late: bool,
    now: dt.datetime,
    recipients: Sequence[str],
    make: Callable[[], tuple[EmailMessage, int | None]],
) -> Outcome:
    """Send day's digest unless it was sent already or another worker is sending it.

    make() builds the message (and the newest message id it covers) only once the claim is held.
    """
    held = claim(sessions, day=day, late=late, now=now.astimezone(dt.UTC).replace(tzinfo=None))
    if isinstance(held, Outcome):
        return held
    try:
        message, through = make()
        deliver(sessions, smtp=smtp, held=held, message=message, recipients=recipients)
        finish(sessions, held=held, message_id=str(message["Message-ID"]), through_message_id=through)
    except BaseException as exc:
        fail(sessions, held=held, error=f"{type(exc).__name__}: {exc}")
        raise
    return Outcome.SENT


def sent(session: Session, *, day: dt.date) -> bool:
    """Whether day's digest went out."""
    row = session.get(DigestRun, day)
    return row is not None and row.status is DigestStatus.SENT
