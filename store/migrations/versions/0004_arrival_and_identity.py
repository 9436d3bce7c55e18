"""arrival time from the provider, one submission per identity (later deliveries are duplicates),
and why a picture is no photo

Revision ID: 0004
Revises: 0002
Create Date: 2026-12-01 08:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0002"
branch_labels = None
depends_on = None

_SOURCES = ("internaldate", "received", "date", "stored")


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("arrived_at", sa.DateTime(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "arrival_source",
                sa.Enum(*_SOURCES, name="arrival_source", native_enum=False, length=16),
                server_default="stored",
                nullable=False,
            )
        )
        batch_op.add_column(sa.Column("duplicate_of", sa.Integer(), nullable=True))
    # rows stored before: the only time known is when they were stored
    op.execute("UPDATE messages SET arrived_at = received_at")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.alter_column("arrived_at", existing_type=sa.DateTime(), nullable=False)
        batch_op.alter_column("arrival_source", server_default=None)
        batch_op.create_index(batch_op.f("ix_messages_arrived_at"), ["arrived_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_messages_duplicate_of"), ["duplicate_of"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_messages_duplicate_of_messages"), "messages", ["duplicate_of"], ["id"], ondelete="SET NULL"
        )

    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("note", sa.Text(), nullable=True))

    op.create_table(
        "submissions",
        sa.Column("identity", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_submissions_message_id_messages"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("identity", name=op.f("pk_submissions")),
        sa.UniqueConstraint("message_id", name=op.f("uq_submissions_message_id")),
    )


def downgrade() -> None:
    op.drop_table("submissions")
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.drop_column("note")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_messages_duplicate_of_messages"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_messages_duplicate_of"))
        batch_op.drop_index(batch_op.f("ix_messages_arrived_at"))
        batch_op.drop_column("duplicate_of")
        batch_op.drop_column("arrival_source")
        batch_op.drop_column("arrived_at")
