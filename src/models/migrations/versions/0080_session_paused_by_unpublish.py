"""issue 14: event_sessions.paused_by_unpublish (publish brings back what unpublish turned off)

Revision ID: 0080
Revises: 0070

Unpublishing sets the event's active sessions ``inactive`` and marks them;
publishing sets the marked ones ``active`` again and clears the mark. A session
the organiser had made inactive is never marked, so it stays inactive. Sessions
made inactive by an unpublish before this revision cannot be told apart from
the organiser's own: they are left unmarked (inactive until set active).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0080"
down_revision = "0070"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("event_sessions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "paused_by_unpublish", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("event_sessions", schema=None) as batch_op:
        batch_op.drop_column("paused_by_unpublish")
