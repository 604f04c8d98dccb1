"""issue 15: listing (enabled, categories, tags) and the catalogue's search

Revision ID: 0088
Revises: 0087

Events stored before this revision are not listed and have no labels. The
full-text index is PostgreSQL's (a GIN index on the tsvector of name and
description); SQLite searches with LIKE and has none.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0088"
down_revision = "0087"
branch_labels = None
depends_on = None

_EMPTY = sa.text("'[]'")
#: The same expression as models.events.SEARCH_VECTOR_SQL (a migration keeps its own copy).
_SEARCH_VECTOR = "to_tsvector('simple'::regconfig, (name::text || ' '::text) || description)"


def upgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("listed", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("categories", sa.JSON(), nullable=False, server_default=_EMPTY)
        )
        batch_op.add_column(sa.Column("tags", sa.JSON(), nullable=False, server_default=_EMPTY))
        batch_op.create_index(
            "ix_events_catalogue", ["organisation_id", "listed", "status"], unique=False
        )
    op.create_table(
        "event_labels",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("key", sa.String(length=50), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_event_labels_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("event_id", "kind", "key", name=op.f("pk_event_labels")),
    )
    with op.batch_alter_table("event_labels", schema=None) as batch_op:
        batch_op.create_index("ix_event_labels_kind_key", ["kind", "key"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE INDEX ix_events_search ON events USING gin ({_SEARCH_VECTOR})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_events_search")
    with op.batch_alter_table("event_labels", schema=None) as batch_op:
        batch_op.drop_index("ix_event_labels_kind_key")
    op.drop_table("event_labels")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_catalogue")
        batch_op.drop_column("tags")
        batch_op.drop_column("categories")
        batch_op.drop_column("listed")
