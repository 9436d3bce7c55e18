"""Revision 0009 keeps every reply and backfills when each took its place under the caps."""

from __future__ import annotations

import datetime as dt

from alembic import command
from sqlalchemy import select, text

from store.db import make_engine
from store.enums import ReplyStatus
from store.migrate import alembic_config, upgrade
from store.models import Reply

WRITTEN = dt.datetime(2020, 8, 18, 2, 5)


def test_replies_written_before_keep_their_place_under_the_caps(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        cfg = alembic_config(engine.url.render_as_string(hide_password=False))
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0007")
        with engine.begin() as conn:
            for n, status in enumerate(("sent", "pending", "suppressed"), start=1):
                conn.execute(
                    text(
                        "INSERT INTO messages (id, mailbox, uidvalidity, uid, raw_size, oversize, status, reasons,"
                        " notes, remarks, large_attachment_links, attempts, starts, filed, late, received_at,"
                        " arrived_at, arrival_source) VALUES (:id, 'reports', 1, :id, 10, false, 'accepted', '[]',"
                        " '[]', '[]', '[]', 1, 1, true, false, :at, :at, 'internaldate')"
                    ),
                    {"id": n, "at": WRITTEN},
                )
                conn.execute(
                    text(
                        "INSERT INTO replies (id, message_id, kind, status, recipient, reply_message_id, subject,"
                        " body_text, body_html, attempts, next_attempt_at, created_at) VALUES (:id, :id,"
                        " 'acknowledgement', :status, 'xnzgh@163.com', :mid, 's', 't', 'h', 0, :at, :at)"
                    ),
                    {"id": n, "status": status, "mid": f"<{n}@x>", "at": WRITTEN},
                )
        upgrade(engine)
        with engine.connect() as conn:
            rows = conn.execute(
                select(Reply.id, Reply.status, Reply.counted_at, Reply.first_contact).order_by(Reply.id)
            ).all()
        assert [tuple(r) for r in rows] == [
            (1, ReplyStatus.SENT, WRITTEN, False),
            (2, ReplyStatus.PENDING, WRITTEN, False),  # counted as it was before, so it goes out as before
            (3, ReplyStatus.SUPPRESSED, None, False),  # never counted, never sent
        ]
    finally:
        engine.dispose()
