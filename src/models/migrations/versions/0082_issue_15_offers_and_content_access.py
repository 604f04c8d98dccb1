"""issue 15: offers (a group of events) and the events' content access and completion settings

Revision ID: 0082
Revises: 0081

Events already stored get empty access lists (the server default) and no
offer, certificate or score threshold.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import rollcall.models.base

revision = "0082"
down_revision = "0081"
branch_labels = None
depends_on = None

#: What the access lists of events stored before this revision hold.
_EMPTY = sa.text("'[]'")


def upgrade() -> None:
    op.create_table(
        "offers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("ref", sa.String(length=200), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", rollcall.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", rollcall.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_offers_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offers")),
        sa.UniqueConstraint("organisation_id", "ref", name=op.f("uq_offers_organisation_id_ref")),
    )
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_offers_organisation_id"), ["organisation_id"], unique=False
        )

    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("offer_id", sa.Uuid(), nullable=True))
        batch_op.add_column(
            sa.Column("access_trainings", sa.JSON(), nullable=False, server_default=_EMPTY)
        )
        batch_op.add_column(
            sa.Column("access_courses", sa.JSON(), nullable=False, server_default=_EMPTY)
        )
        batch_op.add_column(
            sa.Column("access_external_contents", sa.JSON(), nullable=False, server_default=_EMPTY)
        )
        batch_op.add_column(
            sa.Column("access_scorms", sa.JSON(), nullable=False, server_default=_EMPTY)
        )
        batch_op.add_column(
            sa.Column("access_videos", sa.JSON(), nullable=False, server_default=_EMPTY)
        )
        batch_op.add_column(sa.Column("certificate_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("score_threshold", sa.Float(), nullable=True))
        batch_op.create_index(batch_op.f("ix_events_offer_id"), ["offer_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_events_offer_id_offers"), "offers", ["offer_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_events_offer_id_offers"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_events_offer_id"))
        batch_op.drop_column("score_threshold")
        batch_op.drop_column("certificate_id")
        batch_op.drop_column("access_videos")
        batch_op.drop_column("access_scorms")
        batch_op.drop_column("access_external_contents")
        batch_op.drop_column("access_courses")
        batch_op.drop_column("access_trainings")
        batch_op.drop_column("offer_id")

    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_offers_organisation_id"))

    op.drop_table("offers")
