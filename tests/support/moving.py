"""Moving enrollments over HTTP: a per-date event, enrolling into a date, moving."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from rollcall.models import Enrollment, Occurrence
from tests.support.factories import job, published_event
from tests.support.stack import Stack

DATES = [
    {"starts_at": "2030-05-01T10:00:00+02:00", "ends_at": "2030-05-01T13:00:00+02:00"},
    {"starts_at": "2030-05-08T10:00:00+02:00", "ends_at": "2030-05-08T13:00:00+02:00"},
    {"starts_at": "2030-05-15T10:00:00+02:00", "ends_at": "2030-05-15T13:00:00+02:00"},
]


def per_date_event(
    stack: Stack, key: str, *, ref: str = "pottery", seats: int = 1, waiting_list: bool = True
) -> tuple[dict[str, Any], list[str]]:
    """A published event booked per date (three dates, ``seats`` each); its
    occurrence ids in date order."""
    event = published_event(
        stack,
        key,
        ref=ref,
        name="Pottery workshop",
        max_subscriptions=seats,
        waiting_list=waiting_list,
        booked_per_date=True,
        dates=DATES,
    )
    listed = stack.client.get(f"/v1/events/{ref}/occurrences", headers=stack.auth(key))
    assert listed.status_code == 200, listed.text
    return event, [o["id"] for o in listed.json()["items"]]


def enroll_into(
    stack: Stack,
    key: str,
    event: str,
    ref: str,
    *,
    occurrence_id: str | None = None,
    session_id: str | None = None,
) -> str:
    """Accept an enroll job into a date or a session; its job id."""
    body: dict[str, Any] = {
        "attendee": {"ref": ref, "email": f"{ref}@example.org", "name": ref.title()}
    }
    if occurrence_id is not None:
        body["occurrence_id"] = occurrence_id
    if session_id is not None:
        body["session_id"] = session_id
    response = stack.client.post(
        f"/v1/events/{event}/enrollments", json=body, headers=stack.auth(key)
    )
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


def post_move(stack: Stack, key: str, event: str, enrollment_id: str, **target: Any) -> str:
    response = stack.client.post(
        f"/v1/events/{event}/enrollments/{enrollment_id}/move",
        json=target,
        headers=stack.auth(key),
    )
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


def move(stack: Stack, key: str, event: str, enrollment_id: str, **target: Any) -> dict[str, Any]:
    """Move and let the worker apply it; the finished job."""
    job_id = post_move(stack, key, event, enrollment_id, **target)
    stack.drain()
    return job(stack, key, job_id)


def enrollment_of(stack: Stack, ref: str) -> Enrollment:
    """The attendee's latest enrollment (detached)."""
    with stack.db() as session:
        rows = session.scalars(select(Enrollment).order_by(Enrollment.created_at)).all()
        found = [row for row in rows if row.attendee.ref == ref]
        session.expunge_all()
        return found[-1]


def occurrence_counts(stack: Stack, occurrence_id: str) -> tuple[int, int]:
    """(enrolled_count, waitlisted_count) of one date."""
    import uuid

    with stack.db() as session:
        row = session.get(Occurrence, uuid.UUID(occurrence_id))
        assert row is not None
        return row.enrolled_count, row.waitlisted_count
