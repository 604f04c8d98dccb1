"""Every enrollment job type is applied once: a repeated Idempotency-Key returns
the first job, and a redelivered message changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from rollcall.models import EmailMessage, Enrollment, Event, Payment
from tests.support.enrollment import person
from tests.support.factories import enroll, job, published_event
from tests.support.stack import Stack

Request = Callable[[Stack, str, dict[str, str]], Any]


def _enroll(stack: Stack, key: str, headers: dict[str, str]) -> Any:
    body = {"attendee": person("zed")}
    return stack.client.post("/v1/events/ev/enrollments", json=body, headers=headers)


def _bulk(atomic: bool) -> Request:
    def post(stack: Stack, key: str, headers: dict[str, str]) -> Any:
        body = {"atomic": atomic, "attendees": [person("zed"), person("yan")]}
        return stack.client.post("/v1/events/ev/enrollments/bulk", json=body, headers=headers)

    return post


def _remove(stack: Stack, key: str, headers: dict[str, str]) -> Any:
    return stack.client.delete("/v1/events/ev/attendees/ada", headers=headers)


def _cancel(stack: Stack, key: str, headers: dict[str, str]) -> Any:
    with stack.db() as session:
        ada = session.scalars(select(Enrollment.id).order_by(Enrollment.requested_at)).first()
    return stack.client.post(f"/v1/events/ev/enrollments/{ada}/cancel", headers=headers)


def snapshot(stack: Stack) -> tuple[Any, ...]:
    with stack.db() as session:
        event = session.scalars(select(Event)).one()
        return (
            sorted(session.execute(select(Enrollment.attendee_id, Enrollment.status)).all()),
            session.scalar(select(func.count()).select_from(Payment)),
            session.scalar(select(func.count()).select_from(EmailMessage)),
            event.enrolled_count,
            event.waitlisted_count,
        )


@pytest.mark.parametrize(
    "request_job",
    [_enroll, _bulk(True), _bulk(False), _remove, _cancel],
    ids=["enroll", "bulk-atomic", "bulk-chunked", "remove", "cancel"],
)
def test_each_job_type_applies_once(component_stack: Stack, request_job: Request) -> None:
    # Given ada enrolled and bob waitlisted on a one-seat event
    key = component_stack.key()
    published_event(component_stack, key, ref="ev", max_subscriptions=1, waiting_list=True)
    enroll(component_stack, key, "ev", "ada")
    component_stack.drain()
    enroll(component_stack, key, "ev", "bob")
    component_stack.drain()

    # When the same request is posted twice with one Idempotency-Key
    headers = component_stack.auth(key) | {"Idempotency-Key": "same-request"}
    first = request_job(component_stack, key, headers)
    second = request_job(component_stack, key, headers)
    component_stack.drain()

    # Then both answers are the first job, and it succeeded
    assert first.status_code == second.status_code == 202, first.text
    assert first.json()["id"] == second.json()["id"]
    done = job(component_stack, key, first.json()["id"])
    assert done["status"] == "succeeded", done
    after_first = snapshot(component_stack)

    # When its message is delivered again, nothing changes
    from rollcall.workers.actors import process_job

    process_job.send(first.json()["id"])
    component_stack.drain()
    assert snapshot(component_stack) == after_first
    assert job(component_stack, key, first.json()["id"]) == done
