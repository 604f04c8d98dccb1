"""issue 15 #8: attendees as a resource: when a person was erased

Revision ID: 0089
Revises: 0085

An erased attendee's row stays (anonymised), so seat counts and payments stay
whole; ``erased_at`` says it was erased and when (erase is idempotent).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from rollcall.models.base import UTCDateTime

revision = "0089"
down_revision = "0085"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("attendees", schema=None) as batch_op:
        batch_op.add_column(sa.Column("erased_at", UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("attendees", schema=None) as batch_op:
        batch_op.drop_column("erased_at")
