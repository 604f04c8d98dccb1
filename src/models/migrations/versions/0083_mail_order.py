"""issue 14: mail order: order keys on mails and set-wise placements

Revision ID: 0083
Revises: 0082

Mails of one attendee and event leave in the order of the changes that caused
them (workers.mail_delivery.in_order). Existing rows get no key: they are
unordered, as before, and hold nothing back.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0083"
down_revision = "0082"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE SEQUENCE IF NOT EXISTS mail_order_seq")
    with op.batch_alter_table("email_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attendee_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("event_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("order_key", sa.BigInteger(), nullable=True))
        batch_op.create_index(
            "ix_email_messages_order", ["attendee_id", "event_id", "order_key"], unique=False
        )
    with op.batch_alter_table("enrollments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("mail_key", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("enrollments", schema=None) as batch_op:
        batch_op.drop_column("mail_key")
    with op.batch_alter_table("email_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_email_messages_order")
        batch_op.drop_column("order_key")
        batch_op.drop_column("event_id")
        batch_op.drop_column("attendee_id")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP SEQUENCE IF EXISTS mail_order_seq")
