"""The booking window rule (domain.enrollment.booking_window): a table of the
seed's cases, and properties over any window, span and moment."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rollcall.domain.calendar.policy import SeatState, calls_to_action
from rollcall.domain.enrollment.booking_window import (
    BOOKING_ENDED,
    OCCURRENCE_ENDED,
    BookedSpan,
    BookingWindow,
    booking_refusal,
    closes_at,
    opens_at,
    window_refusal,
)

T0 = datetime(2027, 3, 1, 9, tzinfo=UTC)
HOUR = timedelta(hours=1)
DATE = BookedSpan(T0, T0 + 2 * HOUR)
T0_ID = uuid.UUID(int=1)


def code(window: BookingWindow, span: BookedSpan, now: datetime) -> str | None:
    refusal = booking_refusal(window, span, now=now)
    return None if refusal is None else refusal.code


@pytest.mark.parametrize(
    ("window", "now", "expected"),
    [
        # IMMEDIATE / CONTINUE_UNTIL_EVENT_ENDS: open until the date ends, even once started
        (BookingWindow(), T0 - 1000 * HOUR, None),
        (BookingWindow(), T0 + HOUR, None),
        (BookingWindow(), T0 + 2 * HOUR, "REGISTRATION_CLOSED"),
        # a fixed closing date (the closing date, registration_end)
        (BookingWindow(closes_on=T0 - HOUR), T0 - 2 * HOUR, None),
        (BookingWindow(closes_on=T0 - HOUR), T0 - HOUR, "REGISTRATION_CLOSED"),
        # a fixed closing date after the date's end: the end closes first
        (BookingWindow(closes_on=T0 + 10 * HOUR), T0 + 3 * HOUR, "REGISTRATION_CLOSED"),
        # a fixed opening
        (BookingWindow(opens_on=T0 - 5 * HOUR), T0 - 6 * HOUR, "REGISTRATION_NOT_OPEN"),
        (BookingWindow(opens_on=T0 - 5 * HOUR), T0 - 5 * HOUR, None),
        # offsets before the occurrence starts: opens 24 h before, closes 1 h before
        (BookingWindow(opens_before_minutes=1440), T0 - 25 * HOUR, "REGISTRATION_NOT_OPEN"),
        (BookingWindow(opens_before_minutes=1440), T0 - 24 * HOUR, None),
        (BookingWindow(closes_before_minutes=60), T0 - 61 * timedelta(minutes=1), None),
        (BookingWindow(closes_before_minutes=60), T0 - HOUR, "REGISTRATION_CLOSED"),
        # an offset of 0 closes at the start
        (BookingWindow(closes_before_minutes=0), T0, "REGISTRATION_CLOSED"),
    ],
)
def test_the_seed_cases(window: BookingWindow, now: datetime, expected: str | None) -> None:
    assert code(window, DATE, now) == expected


def test_closed_says_why_and_when() -> None:
    ended = booking_refusal(BookingWindow(), DATE, now=T0 + 3 * HOUR)
    assert ended is not None
    assert ended.details == {"closes_at": DATE.ends_at.isoformat(), "reason": OCCURRENCE_ENDED}
    closed = booking_refusal(BookingWindow(closes_before_minutes=30), DATE, now=T0)
    assert closed is not None and closed.details["reason"] == BOOKING_ENDED
    # once the date is over, that is the reason, whatever closed booking first
    over = booking_refusal(BookingWindow(closes_before_minutes=30), DATE, now=T0 + 3 * HOUR)
    assert over is not None and over.details == {
        "closes_at": (T0 - 30 * timedelta(minutes=1)).isoformat(),
        "reason": OCCURRENCE_ENDED,
    }


def test_a_span_without_dates_closes_only_by_its_window() -> None:
    forever = BookedSpan(None, None)
    assert code(BookingWindow(), forever, T0 + 10_000 * HOUR) is None
    assert code(BookingWindow(closes_before_minutes=60), forever, T0) is None
    assert code(BookingWindow(closes_on=T0), forever, T0) == "REGISTRATION_CLOSED"


# Properties --------------------------------------------------------------------

moments = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
)
offsets = st.integers(min_value=0, max_value=366 * 24 * 60)
windows = st.builds(
    BookingWindow,
    opens_on=st.none() | moments,
    opens_before_minutes=st.none() | offsets,
    closes_on=st.none() | moments,
    closes_before_minutes=st.none() | offsets,
)


@st.composite
def spans(draw: st.DrawFn) -> BookedSpan:
    if draw(st.booleans()):
        return BookedSpan(None, None)
    start = draw(moments)
    length = draw(st.integers(min_value=1, max_value=30 * 24 * 60))
    return BookedSpan(start, start + timedelta(minutes=length))


@given(windows, spans(), moments)
def test_open_exactly_between_opening_and_closing(
    window: BookingWindow, span: BookedSpan, now: datetime
) -> None:
    opens = opens_at(window, span)
    closes, _reason = closes_at(window, span)
    is_open = (opens is None or opens <= now) and (closes is None or now < closes)
    assert (booking_refusal(window, span, now=now) is None) == is_open


@given(windows, spans(), moments)
def test_an_ended_span_never_takes_an_enrollment(
    window: BookingWindow, span: BookedSpan, now: datetime
) -> None:
    if span.ends_at is not None and now >= span.ends_at:
        refusal = booking_refusal(window, span, now=now)
        assert refusal is not None and refusal.code == "REGISTRATION_CLOSED"
        assert refusal.details["reason"] == OCCURRENCE_ENDED


@given(windows, spans(), moments, st.integers(min_value=0, max_value=10**6))
def test_once_closed_it_stays_closed(
    window: BookingWindow, span: BookedSpan, now: datetime, later_minutes: int
) -> None:
    if code(window, span, now) == "REGISTRATION_CLOSED":
        later = now + timedelta(minutes=later_minutes)
        assert code(window, span, later) == "REGISTRATION_CLOSED"


@given(windows, spans(), moments)
def test_a_valid_window_is_open_at_some_moment_of_a_long_enough_span(
    window: BookingWindow, span: BookedSpan, now: datetime
) -> None:
    # Offsets only (no fixed moments): the window's validity is the whole story.
    only_offsets = BookingWindow(
        opens_before_minutes=window.opens_before_minutes,
        closes_before_minutes=window.closes_before_minutes,
    )
    if window_refusal(only_offsets) is not None or span.starts_at is None:
        return
    opens = opens_at(only_offsets, span)
    moment = opens if opens is not None else span.starts_at - timedelta(days=400)
    assert booking_refusal(only_offsets, span, now=moment) is None


@given(windows, spans(), moments)
def test_the_calendar_offers_register_exactly_when_the_worker_would_enroll(
    window: BookingWindow, span: BookedSpan, now: datetime
) -> None:
    worker_enrolls = booking_refusal(window, span, now=now) is None
    ctas = calls_to_action(
        entry_id=T0_ID,
        event_id=T0_ID,
        attendee_ref="ada",
        enrollment_id=None,
        enrollment_status=None,
        bookmarked=False,
        cancelled=False,
        registration_open=worker_enrolls,
        seats=SeatState(None, 0, False),
    )
    assert ("REGISTER" in [cta["action"] for cta in ctas]) == worker_enrolls


def test_window_refusals() -> None:
    assert window_refusal(BookingWindow(opens_on=T0, closes_on=T0)) is not None
    assert window_refusal(BookingWindow(opens_on=T0, closes_on=T0 + HOUR)) is None
    both = BookingWindow(opens_before_minutes=60, closes_before_minutes=60)
    refusal = window_refusal(both)
    assert refusal is not None and refusal.code == "BOOKING_WINDOW_INVALID"
    assert window_refusal(BookingWindow(opens_before_minutes=61, closes_before_minutes=60)) is None
