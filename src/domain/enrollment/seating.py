"""Pure seating rules: capacity, seats grantable, the per-attendee limit.

No session, no clock: data in, decision out. The database functions in
domain.enrollment.capacity and domain.enrollment.bulk.rows apply these
decisions with conditional UPDATEs or row locks (the calendar shows
``has_room``); these are what the property tests pin down.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Level:
    """One row that owns a capacity (event, occurrence or session)."""

    capacity: int | None  # None: unlimited
    enrolled: int


def has_room(capacity: int | None, enrolled: int) -> bool:
    """Unlimited, or fewer enrolled than capacity."""
    return capacity is None or enrolled < capacity


def effective_capacity(own: int | None, event_max: int | None) -> int | None:
    """An occurrence or session without its own capacity has the event's."""
    return own if own is not None else event_max


def free_seats(level: Level) -> int | None:
    """Seats left at one level; None when unlimited."""
    if level.capacity is None:
        return None
    return max(level.capacity - level.enrolled, 0)


def seats_grantable(levels: Sequence[Level], requested: int) -> int:
    """How many of ``requested`` seats fit at every level at once."""
    granted = requested
    for level in levels:
        free = free_seats(level)
        if free is not None:
            granted = min(granted, free)
    return max(granted, 0)


def may_enroll_more(max_per_attendee: int | None, active: int) -> bool:
    """The attendee holds ``active`` enrollments in the event; may they take one more?"""
    return max_per_attendee is None or active < max_per_attendee
