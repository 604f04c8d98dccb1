"""issue 14: a job remembers the credential that created it

Revision ID: 0081
Revises: 0080

``jobs.created_by_key_id`` (the API key) or ``jobs.created_by_token_id`` (an
attendee's end-user token): a caller may always read the jobs it created,
whatever its scopes. Jobs created before this revision have neither; they stay
readable with ``jobs:read`` only, as they were.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0081"
down_revision = "0080"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("created_by_key_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("created_by_token_id", sa.Uuid(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("created_by_token_id")
        batch_op.drop_column("created_by_key_id")
