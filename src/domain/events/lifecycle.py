"""The lifecycle rules of seed 001 as pure policies: data in, a refusal or None out.

States: ``draft`` -> ``published`` -> ``completed``, and ``cancelled`` as a flag
that ends every change. Each refusal is its own error code.
"""

from __future__ import annotations

from datetime import datetime

from rollcall.domain.errors import DomainError
from rollcall.domain.errors.events import (
    CapacityBelowEnrolled,
    EventAlreadyCancelled,
    EventAlreadyPublished,
    EventAlreadyUnpublished,
    EventCancelled,
    EventCompleted,
    EventHasEnrollments,
    EventIsPublished,
    EventNotDraft,
    MinAboveMax,
    OccurrenceAlreadyCancelled,
    OccurrenceCancelled,
    OccurrenceEnded,
    OccurrenceInPast,
    WaitingListNotEmpty,
)
from rollcall.models import Event, Occurrence

#: Fields that may change only while the event is a draft: the name and the
#: registration end (seed 001; ``booking_ends_on`` is stored in it or in the
#: closing offset), and what moves the dates (timezone, rule, dates, whether
#: seats are per date), since attendees may hold seats on those dates.
DRAFT_ONLY_FIELDS = frozenset(
    {
        "name",
        "registration_end",
        "booking_end_offset_minutes",
        "timezone",
        "recurrence",
        "dates",
        "booked_per_date",
    }
)


def edit_refusal(event: Event, field: str) -> DomainError | None:
    """Why ``field`` of the event may not change now, or None.

    Nothing changes on a cancelled or completed event (the description too:
    "only blocked once completed"); draft-only fields are refused once published.
    """
    if event.cancelled:
        return EventCancelled()
    if event.status == "completed":
        return EventCompleted(field=field)
    if field in DRAFT_ONLY_FIELDS and event.status != "draft":
        return EventNotDraft(field=field, status=event.status)
    return None


def capacity_refusal(
    *, max_subscriptions: int | None, min_subscriptions: int | None, enrolled: int
) -> DomainError | None:
    """A new capacity may not go below the seats already taken, nor below the minimum."""
    if max_subscriptions is not None and max_subscriptions < enrolled:
        return CapacityBelowEnrolled(max_subscriptions=max_subscriptions, enrolled=enrolled)
    if (
        max_subscriptions is not None
        and min_subscriptions is not None
        and min_subscriptions > max_subscriptions
    ):
        return MinAboveMax(min_subscriptions=min_subscriptions, max_subscriptions=max_subscriptions)
    return None


def waiting_list_refusal(*, waiting_list: bool, waitlisted: int) -> DomainError | None:
    if not waiting_list and waitlisted > 0:
        return WaitingListNotEmpty(waitlisted=waitlisted)
    return None


def publish_refusal(event: Event) -> DomainError | None:
    if event.cancelled:
        return EventCancelled()
    if event.status == "completed":
        return EventCompleted()
    if event.status == "published":
        return EventAlreadyPublished()
    return None


def unpublish_refusal(event: Event, *, seats_taken: int) -> DomainError | None:
    """Seed 001: refused if already unpublished, completed, or any seat is taken
    or reserved (enrolled or waitlisted, at any level)."""
    if event.cancelled:
        return EventCancelled()
    if event.status == "completed":
        return EventCompleted()
    if event.status == "draft":
        return EventAlreadyUnpublished()
    if seats_taken > 0:
        return EventHasEnrollments(
            "Seats of this event are taken or reserved; it cannot be unpublished.",
            seats_taken=seats_taken,
        )
    return None


def delete_refusal(event: Event, *, enrollments: int, payments: int = 0) -> DomainError | None:
    """Seed 001: only a draft, never completed or published, with no enrollments.

    ``enrollments`` counts every enrollment row, ended ones too, and ``payments``
    every payment row (a removal keeps its payment): deleting the event would
    delete that history. Neither is a seat taken, so the refusal says records.
    """
    if event.status == "completed":
        return EventCompleted()
    if event.status == "published":
        return EventIsPublished()
    if enrollments > 0 or payments > 0:
        return EventHasEnrollments(
            "The event has enrollment or payment records; deleting it would erase them.",
            enrollments=enrollments,
            payments=payments,
        )
    return None


def cancel_refusal(event: Event) -> DomainError | None:
    if event.cancelled:
        return EventAlreadyCancelled()
    if event.status == "completed":
        return EventCompleted()
    return None


def occurrence_cancel_refusal(
    event: Event, occurrence: Occurrence, *, now: datetime
) -> DomainError | None:
    if event.cancelled:
        return EventCancelled()
    if event.status == "completed":
        return EventCompleted()
    if occurrence.cancelled:
        return OccurrenceAlreadyCancelled()
    if occurrence.ends_at <= now:
        return OccurrenceEnded(ends_at=occurrence.ends_at.isoformat())
    return None


def reschedule_refusal(
    event: Event, occurrence: Occurrence, *, starts_at: datetime, now: datetime
) -> DomainError | None:
    """A date moves while its event is neither cancelled nor completed, it is
    not cancelled and has not ended, and only to a start still to come."""
    if event.cancelled:
        return EventCancelled()
    if event.status == "completed":
        return EventCompleted()
    if occurrence.cancelled:
        return OccurrenceCancelled("The occurrence is cancelled; it cannot be moved.")
    if occurrence.ends_at <= now:
        return OccurrenceEnded(ends_at=occurrence.ends_at.isoformat())
    if starts_at <= now:
        return OccurrenceInPast(starts_at=starts_at.isoformat(), now=now.isoformat())
    return None


def is_due_for_completion(event: Event, *, last_end: datetime | None, now: datetime) -> bool:
    """A published, uncancelled event completes once its last occurrence has ended.

    ``last_end`` is the end of the rule's last occurrence (None for an endless
    rule, which never completes); for explicit dates it is Event.ends_at.
    """
    if event.status != "published" or event.cancelled:
        return False
    return last_end is not None and last_end <= now
