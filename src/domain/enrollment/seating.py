"""Pure seating rules: capacity, admission, waiting-list order, promotion.

No session, no clock: data in, decision out. The database functions in
domain.enrollment.capacity, domain.enrollment.waitlist and
domain.enrollment.bulk.run apply these decisions with conditional UPDATEs or
row locks; these are what the property tests pin down.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, TypeVar

Admission = Literal["enrolled", "waitlisted", "full"]


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


def admit(levels: Sequence[Level], *, waiting_list: bool) -> Admission:
    """One request: a seat if every level has room, else the waiting list, else full."""
    if seats_grantable(levels, 1) == 1:
        return "enrolled"
    return "waitlisted" if waiting_list else "full"


def may_enroll_more(max_per_attendee: int | None, active: int) -> bool:
    """The attendee holds ``active`` enrollments in the event; may they take one more?"""
    return max_per_attendee is None or active < max_per_attendee


WaitKey = tuple[datetime, int, str]
T = TypeVar("T")


def waiting_order(entries: Iterable[tuple[WaitKey, T]]) -> list[T]:
    """Waiting-list order: when intake accepted the request, then the row in
    its bulk job, then the enrollment id (a stable last resort)."""
    return [item for _key, item in sorted(entries, key=lambda pair: pair[0])]


def promotions(level_after_release: Sequence[Level], waiting: int) -> int:
    """How many waitlisted attendees a freed seat (or raised capacity) lets in."""
    if waiting <= 0:
        return 0
    return seats_grantable(level_after_release, waiting)
