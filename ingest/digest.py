"""Hand the roster and the mailboxes from the settings to the digest in notify."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage

from ingest.app import App
from ingest.kinds import label
from notify.digest import CollectionLine, UnitLine, compose_digest, digest_context, send_digest_once
from store.enums import MailboxKind


def _lines(app: App) -> tuple[list[UnitLine], list[CollectionLine]]:
    units = [UnitLine(name=u.name, quota=u.activity_quota) for u in app.settings.units]
    boxes = [CollectionLine(mailbox=b.name, label=label(b.kind), is_report=b.kind is MailboxKind.OFFLINE_ACTIVITY)
             for b in app.settings.mailboxes]
    return units, boxes


def preview(app: App, *, day: dt.date) -> EmailMessage:
    units, boxes = _lines(app)
    with app.sessions() as session:
        context = digest_context(session, day=day, units=units, collections=boxes)
    return compose_digest(renderer=app.renderer, context=context, sender=app.settings.smtp.sender,
                          recipients=app.settings.digest.recipients)


def send_digest(app: App, *, day: dt.date) -> bool:
    units, boxes = _lines(app)
    return send_digest_once(sessions=app.sessions, renderer=app.renderer, smtp=app.settings.smtp, day=day,
                            recipients=app.settings.digest.recipients, units=units, collections=boxes)
