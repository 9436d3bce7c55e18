"""workers with heartbeats, leases, reply leases by worker, judging starts, mailbox backoff

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 08:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workers",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("beat_at", sa.DateTime(), nullable=False),
        sa.Column("holds", sa.Text(), server_default="", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workers")),
    )
    op.create_index(op.f("ix_workers_beat_at"), "workers", ["beat_at"], unique=False)
    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=True),
        sa.Column("taken_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_leases")),
    )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("starts", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("filed", sa.Boolean(), server_default=sa.false(), nullable=False))
    # rows stored before: judging was started at least as often as it was attempted (a failed message
    # is tried again only while it has starts to spare, as one failing under this schema is)
    op.execute("UPDATE messages SET starts = attempts WHERE starts < attempts")
    with op.batch_alter_table("replies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("leased_by", sa.String(length=64), nullable=True))
    with op.batch_alter_table("mailbox_state", schema=None) as batch_op:
        batch_op.add_column(sa.Column("retry_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("last_host", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("mailbox_state", schema=None) as batch_op:
        batch_op.drop_column("last_host")
        batch_op.drop_column("retry_at")
    with op.batch_alter_table("replies", schema=None) as batch_op:
        batch_op.drop_column("leased_by")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("filed")
        batch_op.drop_column("starts")
    op.drop_table("leases")
    op.drop_index(op.f("ix_workers_beat_at"), table_name="workers")
    op.drop_table("workers")
