"""issue 15: venue, online URL, banners and thumbnail of events; sequence counters
for rescheduled dates and changed places

Revision ID: 0085
Revises: 0094

Events already stored get no venue, no online URL, no banner (the server
default '[]') and no thumbnail; every counter starts at 0.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0085"
down_revision = "0094"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("venue", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("online_url", sa.String(length=2083), nullable=True))
        batch_op.add_column(
            sa.Column("banner", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
        batch_op.add_column(sa.Column("thumbnail", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column("place_sequence", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("occurrences", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sequence", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("occurrences", schema=None) as batch_op:
        batch_op.drop_column("sequence")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("place_sequence")
        batch_op.drop_column("thumbnail")
        batch_op.drop_column("banner")
        batch_op.drop_column("online_url")
        batch_op.drop_column("venue")
