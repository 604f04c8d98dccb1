"""issue 14: a mail's send deadline (not_after)

Revision ID: 0084
Revises: 0083

A before-reminder written before its occurrence's start must never leave
after it: the mail carries the run's send deadline, and a mail past it is
never claimed (domain.ops.mail_claims.claimable_before) and ends ``expired``.
Existing rows get none: they keep their old behaviour.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from rollcall.models.base import UTCDateTime

revision = "0084"
down_revision = "0083"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("email_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("not_after", UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("email_messages", schema=None) as batch_op:
        batch_op.drop_column("not_after")
