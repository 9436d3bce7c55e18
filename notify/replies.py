"""Automatic replies: build the pending row with the verdict, and send pending rows over SMTP later.

Before sending, the caps on replies (`notify.quota`) let waiting replies out or hold them for later.

A reply is leased to the worker sending it. The lease is taken over by another worker as soon as
its holder's heartbeat is stale (the holder died), else after LEASE at the latest; so a reply whose
sender died between the SMTP answer and the database update can go out twice, never more.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql import ColumnElement

from campaign.notice import OWN_HEADER
from campaign.settings import SafetySettings, SmtpSettings
from notify.quota import admit
from notify.render import Rendered
from notify.safe import clean_header
from notify.smtp import SmtpConnection
from store.enums import ReplyKind, ReplyStatus
from store.errors import one_line
from store.killpoint import kill_point
from store.models import Message, Reply, utcnow
from store.workers import Heart, live_ids

log = logging.getLogger(__name__)

_MSGID = re.compile(r"<[!-;=?-~]{1,250}>")  # printable ASCII without < > and spaces
_ADDRESS = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252}[A-Za-z0-9])?$")
LEASE = dt.timedelta(minutes=10)


def _ids(value: str | None, *, keep: int) -> str | None:
    if not value:
        return None
    found = _MSGID.findall(value)
    return " ".join(found[-keep:]) if found else None


def new_reply(*, message: Message, kind: ReplyKind, rendered: Rendered, sender: str) -> Reply | None:
    """A pending reply to message's sender, or None when there is no address we may write to."""
    recipient = message.sender or ""
    if not _ADDRESS.match(recipient):
        return None
    domain = sender.rpartition("@")[2] or "localhost"
    in_reply_to = _ids(message.message_id, keep=1)
    references = _ids(f"{message.references or ''} {message.message_id or ''}", keep=10)
    return Reply(
        kind=kind,
        status=ReplyStatus.PENDING,
        recipient=recipient,
        reply_message_id=make_msgid(idstring=f"intake.{kind.value}", domain=domain),
        in_reply_to=in_reply_to,
        references=references,
        subject=clean_header(rendered.subject, max_chars=250),
        body_text=rendered.text,
        body_html=rendered.html,
    )


def compose(reply: Reply, *, sender: str, now: dt.datetime | None = None) -> EmailMessage:
    """The message for a reply row; every header is rebuilt from cleaned values."""
    if not _ADDRESS.match(reply.recipient):
        raise ValueError(f"refusing to write to {reply.recipient!r}")
    msg = EmailMessage(policy=SMTP)
    msg["From"] = sender
    msg["To"] = reply.recipient
    msg["Subject"] = clean_header(reply.subject, max_chars=250)
    msg["Date"] = format_datetime(now or dt.datetime.now(dt.UTC))
    msg["Message-ID"] = _ids(reply.reply_message_id, keep=1) or make_msgid()
    in_reply_to = _ids(reply.in_reply_to, keep=1)
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    references = _ids(reply.references, keep=10)
    if references:
        msg["References"] = references
    msg["Auto-Submitted"] = "auto-replied"
    msg["X-Auto-Response-Suppress"] = "All"
    msg["Precedence"] = "auto_reply"
    msg[OWN_HEADER] = reply.kind.value
    msg.set_content(reply.body_text, charset="utf-8")
    msg.add_alternative(reply.body_html, subtype="html", charset="utf-8")
    return msg


@dataclass(frozen=True, kw_only=True)
class SendReport:
    sent: int
    retrying: int
    given_up: int
    held: int = 0  # held by a cap on replies, to go out when it allows


def _due(now: dt.datetime, cutoff: dt.datetime | None) -> ColumnElement[bool]:
    """Pending replies let out by the caps whose time has come, or whose lease holder's heartbeat is older
    than cutoff."""
    due = Reply.next_attempt_at <= now
    if cutoff is not None:
        due = or_(due, and_(Reply.leased_by.is_not(None), Reply.leased_by.not_in(live_ids(cutoff))))
    return and_(Reply.status == ReplyStatus.PENDING, Reply.counted_at.is_not(None), due)


def _claim(
    sessions: sessionmaker[Session], now: dt.datetime, limit: int, heart: Heart | None, safety: SafetySettings
) -> tuple[list[int], int]:
    """Let waiting replies out under the caps (holding the others), then lease due replies to this worker
    so that no other worker sends them at the same time; the ids leased and how many were held."""
    claimed: list[int] = []
    cutoff = heart.cutoff(now) if heart is not None else None
    with sessions.begin() as session:
        held = admit(session, now=now, settings=safety).held
        due = session.scalars(select(Reply.id).where(_due(now, cutoff)).order_by(Reply.id).limit(limit)).all()
        for reply_id in due:
            result = session.execute(
                update(Reply)
                .where(Reply.id == reply_id, _due(now, cutoff))
                .values(next_attempt_at=now + LEASE, leased_by=heart.id if heart is not None else None)
            )
            if result.rowcount == 1:  # type: ignore[attr-defined]
                claimed.append(reply_id)
    return claimed, held


def send_pending(
    *,
    sessions: sessionmaker[Session],
    settings: SmtpSettings,
    limit: int = 200,
    clock: Callable[[], dt.datetime] = utcnow,
    heart: Heart | None = None,
    safety: SafetySettings = SafetySettings(),
) -> SendReport:
    """Send every due pending reply that the caps let out, batch by batch; an SMTP outage leaves them
    pending for later, a cap holds them until it allows.

    With a heart the replies are leased to its worker (beating while it sends), and leases of dead
    workers are taken over at once.
    """
    total = SendReport(sent=0, retrying=0, given_up=0)
    while True:
        if heart is not None:
            heart.maybe_beat()
        claimed, held = _claim(sessions, clock(), limit, heart, safety)
        total = SendReport(sent=total.sent, retrying=total.retrying, given_up=total.given_up, held=total.held + held)
        if not claimed:
            return total
        batch = _send_batch(sessions=sessions, settings=settings, claimed=claimed, clock=clock, heart=heart)
        total = SendReport(
            sent=total.sent + batch.sent,
            retrying=total.retrying + batch.retrying,
            given_up=total.given_up + batch.given_up,
            held=total.held,
        )
        if batch.sent == 0:  # the server is down or refusing: the rest waits for the next run
            return total


def _permanent(exc: smtplib.SMTPException) -> str | None:
    """Why a refusal is final (a 5xx answer to this message or recipient), or None when it may pass later."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        if codes and all(code >= 500 for code in codes):
            return f"recipient refused: {exc.recipients}"
        return None
    if isinstance(exc, smtplib.SMTPDataError) and exc.smtp_code >= 500:
        return f"message refused: {exc.smtp_code} {exc.smtp_error!r}"
    return None


def _send_batch(
    *,
    sessions: sessionmaker[Session],
    settings: SmtpSettings,
    claimed: list[int],
    clock: Callable[[], dt.datetime],
    heart: Heart | None,
) -> SendReport:
    sent = retrying = given_up = 0
    connection: SmtpConnection | None = None
    error: str | None = None
    where = f"SMTP {settings.host}:{settings.port}"
    try:
        connection = SmtpConnection(settings=settings).__enter__()
    except (OSError, smtplib.SMTPException) as exc:
        error = one_line(exc)
        log.warning("%s unavailable: %s", where, error)
    try:
        for reply_id in claimed:
            if heart is not None:
                heart.maybe_beat()
            with sessions.begin() as session:
                reply = session.get(Reply, reply_id)
                if reply is None or reply.status is not ReplyStatus.PENDING:
                    continue
                if heart is not None and reply.leased_by != heart.id:
                    continue  # taken over meanwhile (this worker was taken for dead)
                problem = error
                final = False
                if connection is not None:
                    try:
                        connection.send(compose(reply, sender=settings.sender), recipient=reply.recipient)
                        kill_point("sent")
                    except smtplib.SMTPException as exc:
                        why = _permanent(exc)
                        final = why is not None
                        problem = why or one_line(exc)
                        if isinstance(exc, smtplib.SMTPServerDisconnected):
                            error, connection = problem, None  # the rest of the batch waits for the next run
                    except OSError as exc:  # timeout, reset: the connection is gone
                        problem = one_line(exc)
                        log.warning("%s: %s", where, problem)
                        error, connection = problem, None
                reply.attempts += 1
                reply.leased_by = None
                if problem is None:
                    reply.status = ReplyStatus.SENT
                    reply.sent_at = clock()
                    reply.last_error = None
                    sent += 1
                    log.info("sent %s reply %s to %s", reply.kind.value, reply.reply_message_id, reply.recipient)
                elif final or reply.attempts >= settings.max_attempts:
                    reply.status = ReplyStatus.FAILED
                    reply.last_error = problem
                    given_up += 1
                    log.error(
                        "gave up on reply %s to %s after %d attempt(s): %s",
                        reply.id,
                        reply.recipient,
                        reply.attempts,
                        problem,
                    )
                else:
                    reply.last_error = problem
                    delay = settings.retry_seconds * 2 ** min(reply.attempts - 1, 10)
                    reply.next_attempt_at = clock() + dt.timedelta(seconds=delay)
                    retrying += 1
    finally:
        if connection is not None:
            connection.__exit__(None, None, None)
    return SendReport(sent=sent, retrying=retrying, given_up=given_up)
