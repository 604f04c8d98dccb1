"""Reminder runs: one per (occurrence, run key), so nothing is ever sent twice."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from rollcall.models.base import Base, UTCDateTime, new_id

REMINDER_KINDS = ("before", "after", "adhoc")
#: pending: recorded, not yet started; sending: recipients materialised, mails
#: going out; done: every mail handed to SMTP (or failed); missed: found later
#: than the grace period, nothing sent; cancelled: the event or occurrence was
#: cancelled before the run started, nothing sent.
REMINDER_RUN_STATES = ("pending", "sending", "done", "missed", "cancelled")


class ReminderRun(Base):
    """One reminder run. ``run_key`` is the kind for scheduled runs ("before",
    "after") and "adhoc:<job id>" for an ad-hoc one: the unique constraint on
    (occurrence_id, run_key) is what stops two schedulers, a restart or a late
    tick from recording a second run."""

    __tablename__ = "reminder_runs"
    __table_args__ = (
        UniqueConstraint("occurrence_id", "run_key"),
        Index("ix_reminder_runs_state", "state"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE")
    )
    event_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), index=True
    )
    occurrence_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("occurrences.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(16))
    run_key: Mapped[str] = mapped_column(String(64))
    #: The reminder moment: who is enrolled at this instant gets the mail.
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    state: Mapped[str] = mapped_column(String(16), default="pending")
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    job_id: Mapped[uuid.UUID | None] = mapped_column(nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
