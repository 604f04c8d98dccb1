"""Events, their dated occurrences, their sessions and trainers.

Seat counters (``enrolled_count``) live on the row that owns the capacity, so
a seat is taken with one conditional UPDATE (see domain.enrollment.capacity): the row's
own lock is what keeps concurrent workers from overselling.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, get_args

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rollcall.models.base import Base, UTCDateTime, new_id

#: The vocabularies: the API's schema takes these Literals, code the tuples.
EventType = Literal["MEETING", "WEBINAR", "TRAINING", "ELEARNING", "COURSE", "SCORM", "VIDEO"]
EVENT_TYPES: tuple[EventType, ...] = get_args(EventType)
EventStatus = Literal["draft", "published", "completed"]
EVENT_STATUSES: tuple[EventStatus, ...] = get_args(EventStatus)
SessionStatus = Literal["active", "inactive"]

#: The upstream contents an enrollment unlocks (seed 000), one list of ids per kind.
ACCESS_FIELDS = (
    "access_trainings",
    "access_courses",
    "access_external_contents",
    "access_scorms",
    "access_videos",
)
#: What the upstream platform needs to unlock and complete an enrollment: the
#: lists above, the certificate to issue and the score that passes.
CONTENT_FIELDS = (*ACCESS_FIELDS, "certificate_id", "score_threshold")

#: The text the catalogue searches on PostgreSQL: name and description as one
#: tsvector, 'simple' configuration (no language's stemming or stop words:
#: an organisation's events are in many languages). The GIN index is on this
#: very expression, so the query must spell it the same way.
SEARCH_VECTOR_SQL = "to_tsvector('simple'::regconfig, (name::text || ' '::text) || description)"


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("organisation_id", "ref"),
        Index("ix_events_org_status_starts", "organisation_id", "status", "starts_at"),
        Index("ix_events_catalogue", "organisation_id", "listed", "status"),
        # The catalogue's full-text search, on PostgreSQL only (SQLite searches
        # with LIKE, and autogenerate there skips this index with a warning).
        Index("ix_events_search", text(SEARCH_VECTOR_SQL), postgresql_using="gin").ddl_if(
            dialect="postgresql"
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    ref: Mapped[str | None] = mapped_column(String(200), nullable=True)
    #: The offer the event belongs to (seed 000), or None.
    offer_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("offers.id"), nullable=True, index=True
    )
    type: Mapped[str] = mapped_column(String(16), default="TRAINING")
    name: Mapped[str] = mapped_column(String(75))
    description: Mapped[str] = mapped_column(Text, default="")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    status: Mapped[str] = mapped_column(String(16), default="draft")
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    #: First start and last end over all occurrences (or the single date).
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    #: None means unlimited.
    max_subscriptions: Mapped[int | None] = mapped_column(Integer, nullable=True)
    min_subscriptions: Mapped[int | None] = mapped_column(Integer, nullable=True)
    waiting_list: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The booking window (domain.enrollment.booking_window): it closes at
    #: ``registration_end`` (the closing date) or ``booking_end_offset_minutes``
    #: before each occurrence starts, and opens at ``booking_start`` or
    #: ``booking_start_offset_minutes`` before; at most one of each pair is set.
    registration_end: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    booking_start: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    booking_start_offset_minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    booking_end_offset_minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    price: Mapped[Decimal | None] = mapped_column(Numeric(12, 2), nullable=True)
    max_per_attendee: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reminder_before_minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reminder_after_minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: The recurrence rule as given (see domain.events.recurrence); None for explicit dates.
    recurrence: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    #: Enrollments are per occurrence (True) or for the event as a whole (False).
    booked_per_date: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The occurrences are expanded up to here (exclusive); None: never expanded.
    expanded_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: Content access (ids of upstream contents, as strings) and completion settings.
    access_trainings: Mapped[list[str]] = mapped_column(JSON, default=list)
    access_courses: Mapped[list[str]] = mapped_column(JSON, default=list)
    access_external_contents: Mapped[list[str]] = mapped_column(JSON, default=list)
    access_scorms: Mapped[list[str]] = mapped_column(JSON, default=list)
    access_videos: Mapped[list[str]] = mapped_column(JSON, default=list)
    certificate_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    #: The passing score, a percentage (0..100).
    score_threshold: Mapped[float | None] = mapped_column(Float, nullable=True)
    #: Listing (seed 002): in the organisation's catalogue, with its categories
    #: and tags as given (the lowercased keys are in models.listing.EventLabel).
    listed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: Where it happens (seed 002 ``configuration`` VENUE): name, map ``url``,
    #: ``image``, ``latitude``, ``longitude``, ``address`` {address_line1, ...}; or None.
    venue: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    #: The online location (a meeting or stream link), or None.
    online_url: Mapped[str | None] = mapped_column(String(2083), nullable=True)
    #: Seed 002 ``banner``: [{name, image, primary}], at most one primary.
    banner: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    #: Seed 002 ``thumbnail`` {name, image} as set; None: the primary banner is shown.
    thumbnail: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    #: How often the place (venue or online URL) changed: part of every
    #: occurrence's iCalendar SEQUENCE (see domain.events.place).
    place_sequence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    enrolled_count: Mapped[int] = mapped_column(Integer, default=0)
    waitlisted_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    occurrences: Mapped[list[Occurrence]] = relationship(
        back_populates="event", order_by="Occurrence.starts_at", passive_deletes=True
    )
    sessions: Mapped[list[EventSession]] = relationship(
        back_populates="event", order_by="EventSession.starts_at", passive_deletes=True
    )

    @property
    def spots_available(self) -> int | None:
        if self.max_subscriptions is None:
            return None
        return max(self.max_subscriptions - self.enrolled_count, 0)


class Occurrence(Base):
    """One dated instance of an event, start and end in UTC."""

    __tablename__ = "occurrences"
    __table_args__ = (
        UniqueConstraint("event_id", "starts_at"),
        Index("ix_occurrences_starts", "starts_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    #: How often this date was rescheduled: its reminder runs' key and part of
    #: its iCalendar SEQUENCE (see domain.events.reschedule).
    sequence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: None: the event's max_subscriptions applies per occurrence.
    capacity: Mapped[int | None] = mapped_column(Integer, nullable=True)
    enrolled_count: Mapped[int] = mapped_column(Integer, default=0)
    waitlisted_count: Mapped[int] = mapped_column(Integer, default=0)

    event: Mapped[Event] = relationship(back_populates="occurrences")


class EventSession(Base):
    """A part of an event with its own capacity, on all or specific occurrences."""

    __tablename__ = "event_sessions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    event_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(75))
    capacity: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="active")
    #: Local wall-clock start ("HH:MM") on each occurrence's date, or None.
    starts_at: Mapped[str | None] = mapped_column(String(5), nullable=True)
    duration_minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: None: on every occurrence; else the list of occurrence ids (as strings).
    occurrence_ids: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    #: Made inactive by the event's unpublish (not by the organiser): the next
    #: publish makes it active again.
    paused_by_unpublish: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    enrolled_count: Mapped[int] = mapped_column(Integer, default=0)
    waitlisted_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    event: Mapped[Event] = relationship(back_populates="sessions")


class Trainer(Base):
    __tablename__ = "trainers"

    event_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    attendee_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("attendees.id", ondelete="CASCADE"), primary_key=True
    )
