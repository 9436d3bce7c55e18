"""replies: when each took its place under the caps, and whether it answers a first contact

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 09:00:00

`counted_at` is backfilled with `created_at` for every reply that was not suppressed (the caps
counted replies by their creation until now), so the windows of the caps carry on across the
upgrade; `first_contact` is false for existing replies. Only columns are added: no table is rebuilt.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("replies", sa.Column("counted_at", sa.DateTime(), nullable=True))
    op.add_column("replies", sa.Column("first_contact", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_index(op.f("ix_replies_counted_at"), "replies", ["counted_at"], unique=False)
    replies = sa.table(
        "replies", sa.column("counted_at", sa.DateTime()), sa.column("created_at", sa.DateTime()), sa.column("status")
    )
    op.execute(replies.update().where(replies.c.status != "suppressed").values(counted_at=replies.c.created_at))


def downgrade() -> None:
    op.drop_index(op.f("ix_replies_counted_at"), table_name="replies")
    with op.batch_alter_table("replies", schema=None) as batch_op:
        batch_op.drop_column("first_contact")
        batch_op.drop_column("counted_at")
