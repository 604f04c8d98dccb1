"""issue 15: booking windows as seed 002 has them: offsets before each occurrence

Revision ID: 0087
Revises: 0084

The fixed moments are the columns already there (``booking_start``,
``registration_end``); an offset before each occurrence's start is new. Events
stored before this revision keep their window (no offsets).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0087"
down_revision = "0084"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("booking_start_offset_minutes", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("booking_end_offset_minutes", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("booking_end_offset_minutes")
        batch_op.drop_column("booking_start_offset_minutes")
