"""issue 5: reminder runs; email_messages.run_id and updated_at

Revision ID: 0050
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import rollcall.models.base

revision = "0050"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reminder_runs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("occurrence_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("run_key", sa.String(length=64), nullable=False),
        sa.Column("due_at", rollcall.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Uuid(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", rollcall.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", rollcall.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", rollcall.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_reminder_runs_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_reminder_runs_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["occurrence_id"],
            ["occurrences.id"],
            name=op.f("fk_reminder_runs_occurrence_id_occurrences"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminder_runs")),
        sa.UniqueConstraint(
            "occurrence_id", "run_key", name=op.f("uq_reminder_runs_occurrence_id_run_key")
        ),
    )
    with op.batch_alter_table("reminder_runs", schema=None) as batch_op:
        batch_op.create_index("ix_reminder_runs_state", ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_reminder_runs_event_id"), ["event_id"], unique=False)
    with op.batch_alter_table("email_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("run_id", sa.Uuid(), nullable=True))
        batch_op.add_column(
            sa.Column("updated_at", rollcall.models.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index("ix_email_messages_run_state", ["run_id", "state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("email_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_email_messages_run_state")
        batch_op.drop_column("updated_at")
        batch_op.drop_column("run_id")
    with op.batch_alter_table("reminder_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reminder_runs_event_id"))
        batch_op.drop_index("ix_reminder_runs_state")
    op.drop_table("reminder_runs")
