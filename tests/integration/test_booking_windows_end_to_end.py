"""Ended dates and booking windows on real parts: HTTP -> PostgreSQL -> Redis
-> a Dramatiq worker, single, grouped and bulk enrollment (the scenarios of
tests/support/booking_scenarios.py, also run on SQLite by the component tier)."""

from __future__ import annotations

from tests.support import booking_scenarios
from tests.support.stack import Stack


def test_an_ended_date_takes_no_enrollment_single_grouped_or_bulk(real_stack: Stack) -> None:
    booking_scenarios.ended_running_and_future_dates(real_stack)


def test_an_ended_event_takes_no_enrollment_before_its_completion(real_stack: Stack) -> None:
    booking_scenarios.ended_event_booked_as_a_whole(real_stack)


def test_offsets_before_each_date(real_stack: Stack) -> None:
    booking_scenarios.offsets_before_each_date(real_stack)
