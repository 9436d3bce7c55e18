"""where a report's number of activities was read: body, attached document, subject, or the default of one

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_COUNTS = sa.table(
    "activity_counts",
    sa.column("message_id", sa.Integer),
    sa.column("rule", sa.Integer),
    sa.column("stated", sa.Integer),
    sa.column("phrase", sa.Text),
    sa.column("source", sa.String),
)
_MESSAGES = sa.table("messages", sa.column("id", sa.Integer), sa.column("subject", sa.Text))


def upgrade() -> None:
    op.add_column(
        "activity_counts",
        sa.Column(
            "source",
            sa.Enum("body", "document", "subject", "default", name="count_source", native_enum=False, length=16),
            nullable=True,
        ),
    )
    # What can be known of the rows read before: no number is the default of one; a number whose
    # words stand in the subject was read there (the subject was read only when the body stated
    # nothing); any other number was read in the body (documents were not read then).
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(_COUNTS.c.message_id, _COUNTS.c.stated, _COUNTS.c.phrase, _MESSAGES.c.subject)
        .join(_MESSAGES, _MESSAGES.c.id == _COUNTS.c.message_id)
        .where(_COUNTS.c.rule > 0)
    ).all()
    for message_id, stated, phrase, subject in rows:
        if stated is None:
            source = "default"
        elif phrase and phrase in unicodedata.normalize("NFKC", subject or ""):
            source = "subject"
        else:
            source = "body"
        bind.execute(sa.update(_COUNTS).where(_COUNTS.c.message_id == message_id).values(source=source))


def downgrade() -> None:
    with op.batch_alter_table("activity_counts", schema=None) as batch_op:
        batch_op.drop_column("source")
