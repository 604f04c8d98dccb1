"""When a booked span (an occurrence, or an event booked as a whole) takes
enrollments: the one rule the enrollment worker and the calendar's calls to
action both apply. Pure: data in, a refusal or None out; property-tested in
tests/unit/test_booking_window_properties.py.

A booking window (seed 002 ``booking_starts_on`` / ``booking_ends_on``) opens

* ``IMMEDIATE``: at once (nothing to wait for);
* ``ON_DATE``: at a fixed moment (``Event.booking_start``);
* ``BEFORE_OCCURRENCE``: an offset of minutes before the span starts;

and closes

* ``CONTINUE_UNTIL_EVENT_ENDS``: when the span ends;
* ``ON_DATE``: at a fixed moment (``Event.registration_end``, the closing date);
* ``BEFORE_OCCURRENCE``: an offset of minutes before the span starts.

Whatever the window says, a span that has ended takes no enrollment: the close
is the earlier of the window's close and the span's end. A span that never
ends (an event without dates, an endless rule booked as a whole) closes only
by its window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, get_args

from rollcall.domain.errors import DomainError
from rollcall.domain.errors.enrollment import (
    BookingWindowInvalid,
    RegistrationClosed,
    RegistrationNotOpen,
)

StartType = Literal["IMMEDIATE", "ON_DATE", "BEFORE_OCCURRENCE"]
START_TYPES: tuple[StartType, ...] = get_args(StartType)
EndType = Literal["CONTINUE_UNTIL_EVENT_ENDS", "ON_DATE", "BEFORE_OCCURRENCE"]
END_TYPES: tuple[EndType, ...] = get_args(EndType)

#: Why a span is closed (``details.reason`` of REGISTRATION_CLOSED).
BOOKING_ENDED = "BOOKING_ENDED"
OCCURRENCE_ENDED = "OCCURRENCE_ENDED"


@dataclass(frozen=True)
class BookingWindow:
    """The stored window: at most one way to open and one way to close (the
    offset wins if both were somehow stored)."""

    opens_on: datetime | None = None
    opens_before_minutes: int | None = None
    closes_on: datetime | None = None
    closes_before_minutes: int | None = None

    @property
    def start_type(self) -> StartType:
        if self.opens_before_minutes is not None:
            return "BEFORE_OCCURRENCE"
        return "ON_DATE" if self.opens_on is not None else "IMMEDIATE"

    @property
    def end_type(self) -> EndType:
        if self.closes_before_minutes is not None:
            return "BEFORE_OCCURRENCE"
        return "ON_DATE" if self.closes_on is not None else "CONTINUE_UNTIL_EVENT_ENDS"


@dataclass(frozen=True)
class BookedSpan:
    """What a seat is taken in: its start (None: no dates) and its end (None: never ends)."""

    starts_at: datetime | None
    ends_at: datetime | None


def opens_at(window: BookingWindow, span: BookedSpan) -> datetime | None:
    """When booking opens for the span; None: it is open from the start.

    An offset before a span with no start has nothing to count from: open."""
    if window.start_type == "BEFORE_OCCURRENCE":
        if span.starts_at is None:
            return None
        return span.starts_at - timedelta(minutes=window.opens_before_minutes or 0)
    return window.opens_on


def closes_at(window: BookingWindow, span: BookedSpan) -> tuple[datetime | None, str]:
    """When booking closes for the span, and why (BOOKING_ENDED or
    OCCURRENCE_ENDED); None: never. The span's end always closes it."""
    closes: datetime | None
    if window.end_type == "BEFORE_OCCURRENCE":
        closes = None
        if span.starts_at is not None:
            closes = span.starts_at - timedelta(minutes=window.closes_before_minutes or 0)
    else:
        closes = window.closes_on
    if span.ends_at is not None and (closes is None or span.ends_at <= closes):
        return span.ends_at, OCCURRENCE_ENDED
    return closes, BOOKING_ENDED


def booking_refusal(
    window: BookingWindow, span: BookedSpan, *, now: datetime
) -> DomainError | None:
    """Why the span takes no enrollment at ``now`` (REGISTRATION_CLOSED,
    REGISTRATION_NOT_OPEN), or None: open iff opens <= now < closes.
    ``details.reason`` is OCCURRENCE_ENDED once the span has ended, else
    BOOKING_ENDED; ``details.closes_at`` is when booking closed.

    Closed is told before not-open: a window that closes before it opens is
    closed, not about to open."""
    closes, reason = closes_at(window, span)
    if closes is not None and now >= closes:
        if span.ends_at is not None and now >= span.ends_at:
            # Over, whatever closed it first: the reason that stays true.
            reason = OCCURRENCE_ENDED
        return RegistrationClosed(closes_at=closes.isoformat(), reason=reason)
    opens = opens_at(window, span)
    if opens is not None and now < opens:
        return RegistrationNotOpen(opens_at=opens.isoformat())
    return None


def window_refusal(window: BookingWindow) -> DomainError | None:
    """Why the window can never be open, when that shows without dates
    (BOOKING_WINDOW_INVALID): fixed moments out of order, or an opening offset
    no larger than the closing one. Negative offsets are refused at the edge."""
    if window.start_type == "ON_DATE" and window.end_type == "ON_DATE":
        assert window.opens_on is not None and window.closes_on is not None
        if window.opens_on >= window.closes_on:
            return BookingWindowInvalid(
                "booking_starts_on must be before booking_ends_on.",
                booking_starts_on=window.opens_on.isoformat(),
                booking_ends_on=window.closes_on.isoformat(),
            )
    if window.start_type == "BEFORE_OCCURRENCE" and window.end_type == "BEFORE_OCCURRENCE":
        assert window.opens_before_minutes is not None
        assert window.closes_before_minutes is not None
        if window.opens_before_minutes <= window.closes_before_minutes:
            return BookingWindowInvalid(
                "Booking opens no earlier before each occurrence than it closes: "
                "the opening offset must be larger than the closing one.",
                occurrence_booking_start_offset=window.opens_before_minutes,
                occurrence_booking_end_offset=window.closes_before_minutes,
            )
    return None
