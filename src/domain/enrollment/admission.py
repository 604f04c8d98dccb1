"""Enrolling attendees: whether an event, and the span a seat is taken in,
take enrollments now.

Seats are taken set-based for one request or ten thousand alike
(domain.enrollment.bulk.rows.enroll_rows): single enroll jobs are applied in groups
(domain.enrollment.group), bulk jobs in chunks (domain.enrollment.bulk.run). Both
ask ``enrollment_refusal`` here, with the span of the scope they book; the
calendar's calls to action ask the same rule (domain.enrollment.booking_window).
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rollcall.domain.access.scopes import EVENT_SCOPE, Scope
from rollcall.domain.enrollment.booking_window import BookedSpan, BookingWindow, booking_refusal
from rollcall.domain.enrollment.waitlist import waitlist_position
from rollcall.domain.errors import DomainError
from rollcall.domain.errors.enrollment import EventNotPublished
from rollcall.domain.errors.events import EventCancelled, EventCompleted
from rollcall.domain.events import recurrence
from rollcall.models import Event, EventSession, Occurrence

__all__ = [
    "EVENT_SCOPE",
    "booking_span",
    "enrollment_refusal",
    "status_refusal",
    "waitlist_position",
    "whole_span",
    "window_of",
]


def status_refusal(*, cancelled: bool, status: str) -> DomainError | None:
    """Why an event in this state takes no enrollment, or None. Pure."""
    if cancelled:
        return EventCancelled()
    if status == "completed":
        return EventCompleted()
    if status != "published":
        return EventNotPublished()
    return None


def window_of(event: Any) -> BookingWindow:
    """The booking window an event (or a row with the event's columns) stores."""
    return BookingWindow(
        opens_on=event.booking_start,
        opens_before_minutes=event.booking_start_offset_minutes,
        closes_on=event.registration_end,
        closes_before_minutes=event.booking_end_offset_minutes,
    )


def enrollment_refusal(event: Event, *, span: BookedSpan, now: datetime) -> DomainError | None:
    """Why this event takes no enrollment into ``span`` at ``now``, or None:
    its state first, then the booking window over the span (an ended span
    takes none). Pure."""
    refusal = status_refusal(cancelled=event.cancelled, status=event.status)
    if refusal is not None:
        return refusal
    return booking_refusal(window_of(event), span, now=now)


@lru_cache(maxsize=1024)
def _rule_end(rule_json: str, tz: str) -> datetime | None:
    return recurrence.last_end(json.loads(rule_json), tz)


def whole_span(
    *,
    starts_at: datetime | None,
    ends_at: datetime | None,
    rule: dict[str, Any] | None,
    timezone: str,
) -> BookedSpan:
    """The span of an event booked as a whole: its first start to its last
    end, the end of the rule's last occurrence for a rule (None: an endless
    rule never ends), not merely of those expanded so far."""
    if rule is None:
        return BookedSpan(starts_at, ends_at)
    return BookedSpan(starts_at, _rule_end(json.dumps(rule, sort_keys=True), timezone))


def booking_span(session: Session, *, event: Event, scope: Scope) -> BookedSpan:
    """The span a seat in ``scope`` is for: the occurrence's own, the
    occurrences a session on specific dates runs on, else the whole event's."""
    if scope.occurrence_id is not None:
        occurrence = session.get(Occurrence, scope.occurrence_id)
        if occurrence is not None:
            return BookedSpan(occurrence.starts_at, occurrence.ends_at)
    if scope.session_id is not None:
        part = session.get(EventSession, scope.session_id)
        if part is not None and part.occurrence_ids is not None:
            span = _occurrences_span(session, event.id, part.occurrence_ids)
            if span is not None:
                return span
    return whole_span(
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        rule=event.recurrence,
        timezone=event.timezone,
    )


def _occurrences_span(
    session: Session, event_id: uuid.UUID, listed: list[str]
) -> BookedSpan | None:
    ids = []
    for text in listed:
        try:
            ids.append(uuid.UUID(str(text)))
        except ValueError:
            continue
    if not ids:
        return None
    first, last = session.execute(
        select(func.min(Occurrence.starts_at), func.max(Occurrence.ends_at)).where(
            Occurrence.event_id == event_id,
            Occurrence.id.in_(ids),
            Occurrence.cancelled.is_(False),
        )
    ).one()
    if first is None:
        return None
    return BookedSpan(first, last)
