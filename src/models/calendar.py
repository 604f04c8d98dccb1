"""The calendar: end-user tokens, bookmarks and the calendar cache.

``calendar_entries`` is a cache, derived from events, occurrences, sessions,
enrollments, trainers and bookmarks (domain.calendar.cache rebuilds it at any
time). One row per (occurrence, audience): ``attendee_id`` NULL is the
organisation's public row of a published event's occurrence; otherwise the row
is that attendee's personal entry. Seat counters are deliberately NOT cached:
they change with Core UPDATEs, so seat-dependent state is computed at read time.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from rollcall.models.base import Base, UTCDateTime, new_id

#: The one scope an end-user token carries (seed 004).
AUTHENTICATED = "AUTHENTICATED"


class AttendeeToken(Base):
    """An end-user token bound to one attendee; only its SHA-256 is stored."""

    __tablename__ = "attendee_tokens"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    attendee_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("attendees.id", ondelete="CASCADE"), index=True
    )
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scope: Mapped[str] = mapped_column(String(32), default=AUTHENTICATED)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class CalendarBookmark(Base):
    """An attendee's bookmark on one calendar entry (an occurrence). Source data."""

    __tablename__ = "calendar_bookmarks"

    attendee_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("attendees.id", ondelete="CASCADE"), primary_key=True
    )
    occurrence_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("occurrences.id", ondelete="CASCADE"), primary_key=True
    )
    event_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CalendarEntry(Base):
    """One cached calendar row; see the module docstring."""

    __tablename__ = "calendar_entries"
    __table_args__ = (
        UniqueConstraint("occurrence_id", "attendee_id"),
        # One public row per occurrence (NULLs are distinct in a unique constraint).
        Index(
            "uq_calendar_entries_public",
            "occurrence_id",
            unique=True,
            postgresql_where=text("attendee_id IS NULL"),
            sqlite_where=text("attendee_id IS NULL"),
        ),
        # The keyset: (organisation, audience) then (starts_at, occurrence_id).
        Index(
            "ix_calendar_entries_keyset",
            "organisation_id",
            "attendee_id",
            "starts_at",
            "occurrence_id",
        ),
        # The public side's keyset. PostgreSQL does not treat ``attendee_id IS NULL``
        # as fixing that column for ordering, so the index above would cost a sort
        # of every public row; this partial index is read in order instead.
        Index(
            "ix_calendar_entries_public_keyset",
            "organisation_id",
            "starts_at",
            "occurrence_id",
            postgresql_where=text("attendee_id IS NULL"),
            sqlite_where=text("attendee_id IS NULL"),
        ),
        Index("ix_calendar_entries_event", "event_id", "attendee_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE")
    )
    #: NULL: the organisation's public row; else this attendee's personal row.
    attendee_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("attendees.id", ondelete="CASCADE"), nullable=True
    )
    occurrence_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("occurrences.id", ondelete="CASCADE")
    )
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    event_type: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(75))
    timezone: Mapped[str] = mapped_column(String(64))
    event_status: Mapped[str] = mapped_column(String(16))
    #: The event or this occurrence is cancelled.
    cancelled: Mapped[bool] = mapped_column(Boolean)
    enrollment_id: Mapped[uuid.UUID | None] = mapped_column(nullable=True)
    #: "enrolled" | "waitlisted" | None (personal rows only).
    enrollment_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    is_trainer: Mapped[bool] = mapped_column(Boolean, default=False)
    bookmarked: Mapped[bool] = mapped_column(Boolean, default=False)
