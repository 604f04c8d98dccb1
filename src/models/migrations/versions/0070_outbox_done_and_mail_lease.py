"""issue 12: outbox.done_at (a row lives until its actor is done), in-flight mail index

Revision ID: 0070
Revises: 0060

Rows sent before this revision are marked done as of their send, except those
whose work is visibly unfinished: a job still queued or running, a mail still
queued, a reminder run still pending or sending. Those stay not done, so the
reconciler checks them against the broker once and sends again what it lost
(the "50 jobs queued forever" of issue 12 recover on deploy). A set-wise
placement message cannot be told finished without reading every placement it
names; it is marked done like the rest.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from alembic import op

import rollcall.models.base

revision = "0070"
down_revision = "0060"
branch_labels = None
depends_on = None

#: (actor, table, the states in which its work is unfinished)
_UNFINISHED = (
    ("process_job", "jobs", "status", ("queued", "running")),
    ("send_email", "email_messages", "state", ("queued",)),
    ("run_reminder", "reminder_runs", "state", ("pending", "sending")),
)
_CHUNK = 500


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("done_at", rollcall.models.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(
            "ix_outbox_pending",
            ["sent_at"],
            unique=False,
            postgresql_where=sa.text("done_at IS NULL"),
            sqlite_where=sa.text("done_at IS NULL"),
        )
    with op.batch_alter_table("email_messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_email_messages_in_flight",
            ["updated_at"],
            unique=False,
            postgresql_where=sa.text("state IN ('sending', 'retrying')"),
            sqlite_where=sa.text("state IN ('sending', 'retrying')"),
        )
    _backfill_done()


def _backfill_done() -> None:
    bind = op.get_bind()
    outbox = sa.table(
        "outbox",
        sa.column("actor", sa.String),
        sa.column("args", sa.JSON),
        sa.column("sent_at", rollcall.models.base.UTCDateTime(timezone=True)),
        sa.column("done_at", rollcall.models.base.UTCDateTime(timezone=True)),
    )
    bind.execute(
        sa.update(outbox).where(outbox.c.sent_at.is_not(None)).values(done_at=outbox.c.sent_at)
    )
    first_arg = outbox.c.args[0].as_string()
    for actor, table_name, column, states in _UNFINISHED:
        table = sa.table(table_name, sa.column("id", sa.Uuid), sa.column(column, sa.String))
        ids = [
            str(row_id)
            for row_id in bind.execute(
                sa.select(table.c.id).where(table.c[column].in_(states))
            ).scalars()
        ]
        for chunk in _chunks(ids):
            bind.execute(
                sa.update(outbox)
                .where(outbox.c.actor == actor, first_arg.in_(chunk))
                .values(done_at=None)
            )


def _chunks(ids: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def downgrade() -> None:
    with op.batch_alter_table("email_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_email_messages_in_flight")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_pending")
        batch_op.drop_column("done_at")
