"""Enrollments (attendee x event, per occurrence or session) and their payments."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Literal

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, Numeric, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rollcall.models.base import Base, UTCDateTime, new_id
from rollcall.models.people import Attendee

EnrollmentStatus = Literal["enrolled", "waitlisted", "removed", "cancelled"]
#: The statuses that hold a seat or a place in line.
ACTIVE_STATUSES: tuple[EnrollmentStatus, ...] = ("enrolled", "waitlisted")


class Enrollment(Base):
    __tablename__ = "enrollments"
    __table_args__ = (
        # One active enrollment per attendee and booking scope; the database,
        # not a check-then-insert, is what refuses the duplicate.
        Index(
            "uq_enrollments_active",
            "event_id",
            "scope_key",
            "attendee_id",
            unique=True,
            postgresql_where=text("status IN ('enrolled', 'waitlisted')"),
            sqlite_where=text("status IN ('enrolled', 'waitlisted')"),
        ),
        Index("ix_enrollments_event_status", "event_id", "status", "requested_at"),
        Index("ix_enrollments_attendee", "attendee_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE")
    )
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    occurrence_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("occurrences.id", ondelete="CASCADE"), nullable=True
    )
    session_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("event_sessions.id", ondelete="CASCADE"), nullable=True
    )
    attendee_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("attendees.id", ondelete="CASCADE"))
    #: "event", "occ:<uuid>" or "sess:<uuid>": what the seat was taken in.
    scope_key: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    #: When the intake accepted the request: the waiting list's order.
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: Tie-breaker within one requested_at (bulk rows share the job's time).
    request_seq: Mapped[int] = mapped_column(Integer, default=0)
    enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    job_id: Mapped[uuid.UUID | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: The order key (models.mail.next_order_key) of the set-wise placement that
    #: wrote this row, whose mail the mail worker writes after commit: until that
    #: mail row exists, the attendee's later mails for the event wait for it.
    mail_key: Mapped[int | None] = mapped_column(BigInteger, nullable=True)

    attendee: Mapped[Attendee] = relationship(lazy="joined")


class Payment(Base):
    """A manual enrollment's comp seat: state ``manual_enrolled``, amount 0.

    Removal keeps it (seed 003); a payment whose enrollment is no longer active
    is an orphan and is counted for monitoring.
    """

    __tablename__ = "payments"
    __table_args__ = (Index("ix_payments_event_attendee", "event_id", "attendee_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE")
    )
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    attendee_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("attendees.id", ondelete="CASCADE"))
    enrollment_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("enrollments.id", ondelete="SET NULL"), nullable=True
    )
    state: Mapped[str] = mapped_column(String(32), default="manual_enrolled")
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
