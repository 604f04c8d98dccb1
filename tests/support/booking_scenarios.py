"""Booking-window and ended-date scenarios over HTTP, one body for both tiers:
tests/component/test_booking_windows_http.py (SQLite, StubBroker) and
tests/integration/test_booking_windows_end_to_end.py (PostgreSQL, Redis, a
real worker). Each takes a Stack and speaks only HTTP, but for reading ids."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from rollcall.domain.clock import utcnow
from rollcall.models import Enrollment, Occurrence
from tests.support.enrollment import person
from tests.support.factories import job, published_event
from tests.support.stack import Stack

MINUTE = timedelta(minutes=1)


def span(start: datetime, minutes: int = 120) -> dict[str, str]:
    return {
        "starts_at": start.isoformat(),
        "ends_at": (start + minutes * MINUTE).isoformat(),
    }


def occurrence_ids(stack: Stack, event_id: str) -> list[str]:
    """The event's dates, earliest first."""
    with stack.db() as session:
        return [
            str(i)
            for i in session.scalars(
                select(Occurrence.id)
                .where(Occurrence.event_id == uuid.UUID(event_id))
                .order_by(Occurrence.starts_at)
            )
        ]


def enroll_job(stack: Stack, key: str, event: str, ref: str, **scope: str) -> str:
    response = stack.client.post(
        f"/v1/events/{event}/enrollments",
        json={"attendee": person(ref), **scope},
        headers=stack.auth(key),
    )
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


def bulk_job(stack: Stack, key: str, event: str, refs: list[str], **body: Any) -> str:
    response = stack.client.post(
        f"/v1/events/{event}/enrollments/bulk",
        json={"attendees": [person(ref) for ref in refs], **body},
        headers=stack.auth(key),
    )
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


def outcome(stack: Stack, key: str, job_id: str) -> str:
    """``enrolled``/``waitlisted``, or the first error's code (and reason, if any)."""
    done = job(stack, key, job_id)
    if done["status"] != "failed":
        result = done["result"]
        return str(result.get("status") or f"{done['status']} {result.get('enrolled')}")
    error = done["errors"][0]
    reason = (error.get("details") or {}).get("reason")
    return f"{error['code']} {reason}" if reason else str(error["code"])


def enrolled_refs(stack: Stack) -> set[str]:
    with stack.db() as session:
        return {
            row.attendee.ref
            for row in session.scalars(select(Enrollment).where(Enrollment.status == "enrolled"))
        }


def ended_running_and_future_dates(stack: Stack) -> None:
    """An event booked per date: its ended date takes no enrollment (single,
    grouped or bulk, atomic or not), its running date does (the default window
    continues until the date ends), its future date does."""
    # Given dates that ended an hour ago, started 30 minutes ago, and start tomorrow
    key = stack.key()
    now = utcnow()
    event = published_event(
        stack,
        key,
        ref="dated",
        booked_per_date=True,
        max_subscriptions=10,
        dates=[span(now - 3 * 60 * MINUTE), span(now - 30 * MINUTE), span(now + 24 * 60 * MINUTE)],
    )
    ended, running, future = occurrence_ids(stack, event["id"])

    # When single enroll jobs for each date are applied together (one group)
    singles = [
        enroll_job(stack, key, "dated", "ada", occurrence_id=ended),
        enroll_job(stack, key, "dated", "bob", occurrence_id=running),
        enroll_job(stack, key, "dated", "cy", occurrence_id=future),
    ]
    # and bulk jobs, atomic and not, into the ended date and the future one
    bulks = [
        bulk_job(stack, key, "dated", ["d1", "d2"], occurrence_id=ended, atomic=True),
        bulk_job(stack, key, "dated", ["e1", "e2"], occurrence_id=ended, atomic=False),
        bulk_job(stack, key, "dated", ["f1", "f2"], occurrence_id=future, atomic=False),
    ]
    stack.drain()

    # Then the ended date refused every one of them with REGISTRATION_CLOSED
    assert [outcome(stack, key, j) for j in singles] == [
        "REGISTRATION_CLOSED OCCURRENCE_ENDED",
        "enrolled",
        "enrolled",
    ]
    assert [outcome(stack, key, j) for j in bulks] == [
        "REGISTRATION_CLOSED OCCURRENCE_ENDED",
        "REGISTRATION_CLOSED OCCURRENCE_ENDED",
        "succeeded 2",
    ]
    assert enrolled_refs(stack) == {"bob", "cy", "f1", "f2"}


def ended_event_booked_as_a_whole(stack: Stack) -> None:
    """An event whose only date has ended takes no enrollment, although the
    completion job has not completed it yet."""
    key = stack.key()
    now = utcnow()
    when = span(now - 3 * 60 * MINUTE)
    published_event(stack, key, ref="over", starts_at=when["starts_at"], ends_at=when["ends_at"])
    shown = stack.client.get("/v1/events/over", headers=stack.auth(key)).json()
    assert shown["status"] == "published"

    jobs = [
        enroll_job(stack, key, "over", "ada"),
        bulk_job(stack, key, "over", ["b1", "b2"], atomic=True),
        bulk_job(stack, key, "over", ["c1", "c2"], atomic=False),
    ]
    stack.drain()

    assert [outcome(stack, key, j) for j in jobs] == ["REGISTRATION_CLOSED OCCURRENCE_ENDED"] * 3
    assert enrolled_refs(stack) == set()


def offsets_before_each_date(stack: Stack) -> None:
    """Booking opens 24 h before each date and closes 1 h before it: per date."""
    key = stack.key()
    now = utcnow()
    published_event(
        stack,
        key,
        ref="window",
        booked_per_date=True,
        dates=[
            span(now + 30 * MINUTE),
            span(now + 12 * 60 * MINUTE),
            span(now + 3 * 24 * 60 * MINUTE),
        ],
        booking_starts_on={"type": "BEFORE_OCCURRENCE", "occurrence_booking_start_offset": 1440},
        booking_ends_on={"type": "BEFORE_OCCURRENCE", "occurrence_booking_end_offset": 60},
    )
    event = stack.client.get("/v1/events/window", headers=stack.auth(key)).json()
    assert event["booking_starts_on"]["type"] == "BEFORE_OCCURRENCE"
    assert event["booking_ends_on"]["occurrence_booking_end_offset"] == 60
    soon, today, later = occurrence_ids(stack, event["id"])

    singles = [
        enroll_job(stack, key, "window", "ada", occurrence_id=soon),
        enroll_job(stack, key, "window", "bob", occurrence_id=today),
        enroll_job(stack, key, "window", "cy", occurrence_id=later),
    ]
    bulks = [
        bulk_job(stack, key, "window", ["d1"], occurrence_id=soon, atomic=False),
        bulk_job(stack, key, "window", ["e1"], occurrence_id=later, atomic=True),
        bulk_job(stack, key, "window", ["f1"], occurrence_id=today, atomic=True),
    ]
    stack.drain()

    assert [outcome(stack, key, j) for j in singles] == [
        "REGISTRATION_CLOSED BOOKING_ENDED",
        "enrolled",
        "REGISTRATION_NOT_OPEN",
    ]
    assert [outcome(stack, key, j) for j in bulks] == [
        "REGISTRATION_CLOSED BOOKING_ENDED",
        "REGISTRATION_NOT_OPEN",
        "succeeded 1",
    ]
    assert enrolled_refs(stack) == {"bob", "f1"}
