"""issue 18: key management: when a key was last used

Revision ID: 0096
Revises: 0083

``api_keys.last_used_at`` is written at most once a minute per key. A rotated
key's ``revoked_at`` may lie in the future (the grace period); no new column.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from rollcall.models.base import UTCDateTime

revision = "0096"
down_revision = "0083"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_used_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_column("last_used_at")
