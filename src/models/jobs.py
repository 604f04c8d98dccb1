"""Jobs posted through the intake API, and the transactional outbox."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from rollcall.models.base import Base, UTCDateTime, new_id

JOB_STATUSES = ("queued", "running", "succeeded", "partially_succeeded", "failed")
FINAL_JOB_STATUSES = ("succeeded", "partially_succeeded", "failed")


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        UniqueConstraint("organisation_id", "idempotency_key"),
        Index("ix_jobs_org_created", "organisation_id", "created_at"),
        Index("ix_jobs_status", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE")
    )
    type: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(24), default="queued")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    event_id: Mapped[uuid.UUID | None] = mapped_column(nullable=True, index=True)
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    request_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: The credential that created the job, which may always read it: an API
    #: key or an attendee's end-user token (none for the scheduler's jobs).
    created_by_key_id: Mapped[uuid.UUID | None] = mapped_column(nullable=True)
    created_by_token_id: Mapped[uuid.UUID | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class OutboxMessage(Base):
    """A Dramatiq message written in the same transaction as the change that
    causes it. Sent after commit; the scheduler's relay sends what was not.

    The row lives until its actor is done with the message (``done_at``, set
    by messaging.outbox_acks): the scheduler's reconciler sends again a row
    sent long ago, not done, whose message the broker no longer holds."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_unsent", "sent_at", "created_at"),
        # Only the rows not done yet: what the reconciler reads every tick,
        # small however long the table grows.
        Index(
            "ix_outbox_pending",
            "sent_at",
            postgresql_where=text("done_at IS NULL"),
            sqlite_where=text("done_at IS NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    actor: Mapped[str] = mapped_column(String(64))
    args: Mapped[list[Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: When a worker finished the message: succeeded, or failed for good.
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
