"""The daily digest for the hosts: progress per unit and per collection, rejections, failures."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from notify.render import Renderer
from notify.safe import clean_header, clean_text
from notify.smtp import SmtpConnection, SmtpSettings
from store.enums import MessageStatus
from store.models import DigestRun, Message, utcnow

MIN_WORKS = 6


@dataclass(frozen=True, kw_only=True)
class UnitLine:
    name: str
    quota: int | None


@dataclass(frozen=True, kw_only=True)
class CollectionLine:
    mailbox: str
    label: str
    is_report: bool


def digest_context(session: Session, *, day: dt.date, units: Sequence[UnitLine],
                   collections: Sequence[CollectionLine]) -> dict[str, object]:
    """The figures of the digest, read from the database."""
    report_boxes = [c.mailbox for c in collections if c.is_report]
    accepted = (select(Message.unit, func.count()).where(Message.status == MessageStatus.ACCEPTED,
                Message.mailbox.in_(report_boxes)).group_by(Message.unit))
    per_unit = {u: n for u, n in session.execute(accepted)}
    unit_rows = []
    for u in units:
        done = int(per_unit.get(u.name, 0))
        pct = min(100, round(100 * done / u.quota)) if u.quota else 0
        unit_rows.append({"name": u.name, "quota": u.quota, "reports": done, "percent": pct})
    coll_rows = []
    for c in collections:
        if c.is_report:
            continue
        n = int(session.scalar(select(func.count()).where(Message.mailbox == c.mailbox,
                                                          Message.status == MessageStatus.ACCEPTED)) or 0)
        coll_rows.append({"label": c.label, "accepted": n, "minimum": MIN_WORKS,
                          "percent": min(100, round(100 * n / MIN_WORKS))})
    rejected = [
        {"sender": clean_text(m.sender or "", max_chars=80), "subject": clean_text(m.subject or "", max_chars=80),
         "reasons": [clean_text(r, max_chars=160) for r in m.reasons]}
        for m in session.scalars(select(Message).where(Message.status == MessageStatus.REJECTED)
                                 .order_by(Message.id.desc()).limit(50))
    ]
    failed = [
        {"id": m.id, "mailbox": m.mailbox, "stage": m.failure_stage.value if m.failure_stage else "",
         "subject": clean_text(m.subject or "", max_chars=80)}
        for m in session.scalars(select(Message).where(Message.status == MessageStatus.FAILED).order_by(Message.id))
    ]
    return {"day": day.isoformat(), "units": unit_rows,
            "total_quota": sum(u.quota or 0 for u in units),
            "total_reports": sum(int(r["reports"]) for r in unit_rows),  # type: ignore[call-overload]
            "collections": coll_rows, "rejected": rejected, "failed": failed}


def compose_digest(*, renderer: Renderer, context: dict[str, object], sender: str,
                   recipients: Sequence[str]) -> EmailMessage:
    rendered = renderer.render("digest", context)
    msg = EmailMessage(policy=SMTP)
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Subject"] = clean_header(rendered.subject)
    msg["Date"] = format_datetime(dt.datetime.now(dt.UTC))
    msg["Message-ID"] = make_msgid(idstring="intake.digest", domain=sender.rpartition("@")[2] or "localhost")
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Mailbox-Intake"] = "digest"
    msg.set_content(rendered.text, charset="utf-8")
    msg.add_alternative(rendered.html, subtype="html", charset="utf-8")
    return msg


def send_digest_once(*, sessions: sessionmaker[Session], renderer: Renderer, smtp: SmtpSettings, day: dt.date,
                     recipients: Sequence[str], units: Sequence[UnitLine],
                     collections: Sequence[CollectionLine]) -> bool:
    """Send the digest for day unless a worker already claimed it; True when this call sent it."""
    try:
        with sessions.begin() as session:
            session.add(DigestRun(day=day, status="claimed", late=False))
    except IntegrityError:
        return False
    with sessions() as session:
        context = digest_context(session, day=day, units=units, collections=collections)
    message = compose_digest(renderer=renderer, context=context, sender=smtp.sender, recipients=recipients)
    try:
        with SmtpConnection(settings=smtp) as conn:
            for rcpt in recipients:
                conn.send(message, recipient=rcpt)
    except BaseException:
        with sessions.begin() as session:  # release the claim so that a later try sends it
            row = session.get(DigestRun, day)
            if row is not None:
                session.delete(row)
        raise
    with sessions.begin() as session:
        row = session.get(DigestRun, day)
        if row is not None:
            row.status = "sent"
            row.sent_at = utcnow()
            row.message_id = str(message["Message-ID"])
    return True
