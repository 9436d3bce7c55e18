"""digest claims that can be taken over, and activity counts read from the reports

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 22:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("digests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("last_error", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("sent_to", sa.JSON(), server_default="[]", nullable=False))
        batch_op.add_column(sa.Column("through_message_id", sa.Integer(), nullable=True))

    op.create_table(
        "activity_counts",
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.Integer(), nullable=False),
        sa.Column("stated", sa.Integer(), nullable=True),
        sa.Column("phrase", sa.Text(), nullable=True),
        sa.Column("read_at", sa.DateTime(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("corrected_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_activity_counts_message_id_messages"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_activity_counts")),
    )


def downgrade() -> None:
    op.drop_table("activity_counts")
    with op.batch_alter_table("digests", schema=None) as batch_op:
        batch_op.drop_column("through_message_id")
        batch_op.drop_column("sent_to")
        batch_op.drop_column("last_error")
        batch_op.drop_column("attempts")
        batch_op.drop_column("claimed_by")
