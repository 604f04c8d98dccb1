"""Enrolling attendees: whether an event takes enrollments at all.

Seats are taken set-based for one request or ten thousand alike
(domain.enrollment.bulk.rows.enroll_rows): single enroll jobs are applied in groups
(domain.enrollment.group), bulk jobs in chunks (domain.enrollment.bulk.run).
"""

from __future__ import annotations

from datetime import datetime

from rollcall.domain.access.scopes import EVENT_SCOPE
from rollcall.domain.enrollment.waitlist import waitlist_position
from rollcall.domain.errors import DomainError
from rollcall.domain.errors.enrollment import (
    EventNotPublished,
    RegistrationClosed,
    RegistrationNotOpen,
)
from rollcall.domain.errors.events import EventCancelled, EventCompleted
from rollcall.models import Event

__all__ = ["EVENT_SCOPE", "enrollment_refusal", "waitlist_position"]


def enrollment_refusal(event: Event, *, now: datetime) -> DomainError | None:
    """Why this event takes no enrollment at ``now``, or None. Pure."""
    if event.cancelled:
        return EventCancelled()
    if event.status == "completed":
        return EventCompleted()
    if event.status != "published":
        return EventNotPublished()
    if event.registration_end is not None and now >= event.registration_end:
        return RegistrationClosed(registration_end=event.registration_end.isoformat())
    if event.booking_start is not None and now < event.booking_start:
        return RegistrationNotOpen(booking_start=event.booking_start.isoformat())
    return None
