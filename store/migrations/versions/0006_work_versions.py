"""a work mail points to the work it belongs to, with its role (resend, supplement, new version)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 09:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("work_of", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "work_role",
                sa.Enum(
                    "original", "resend", "supplement", "replacement", name="work_role", native_enum=False, length=16
                ),
                nullable=True,
            )
        )
        batch_op.create_index(batch_op.f("ix_messages_work_of"), ["work_of"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_messages_work_of_messages"), "messages", ["work_of"], ["id"], ondelete="SET NULL"
        )


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_messages_work_of_messages"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_messages_work_of"))
        batch_op.drop_column("work_role")
        batch_op.drop_column("work_of")
