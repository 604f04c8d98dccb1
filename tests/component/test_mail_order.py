"""Mail order, the class (issue 14 #8): for one attendee and event, a mail
leaves only after the mails of the earlier changes, whatever order the
workers take their messages in.

Each case applies its changes' jobs, then delivers mail in the worst order:
every ``send_email`` first (the later changes' mails, written in their own
transaction), the set-wise placements' mails (written by the mail worker
after commit) last, then what was put aside. The sink must see each
attendee's mails in the order of the changes.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from sqlalchemy import select

from rollcall.domain.clock import utcnow
from rollcall.domain.jobs import actor_names
from rollcall.models import Attendee, EmailMessage, Enrollment, OutboxMessage
from rollcall.workers.actors import process_job
from rollcall.workers.mail_delivery import deliver_email
from rollcall.workers.mail_run import send_placement_batch
from tests.support.factories import enroll, published_event
from tests.support.stack import Stack

CONFIRMED = "You are enrolled: Intro to Rollcall"
WAITLISTED = "You are on the waiting list: Intro to Rollcall"
PROMOTED = "A seat is yours: Intro to Rollcall"
REMOVED = "You were removed from Intro to Rollcall"
ENROLLMENT_CANCELLED = "Enrollment cancelled: Intro to Rollcall"
EVENT_CANCELLED = "Cancelled: Intro to Rollcall"
DATE_CANCELLED = "Date cancelled: Intro to Rollcall, March 1, 2027"


def apply_jobs(stack: Stack) -> None:
    """Apply every queued job (and the jobs they queue) in posting order."""
    queue = stack.broker.queues["jobs"]  # type: ignore[attr-defined]
    while not queue.empty():
        message = json.loads(queue.get_nowait())
        queue.task_done()
        if message["actor_name"] == actor_names.PROCESS_JOB:
            process_job.fn(*message["args"])


def deliver_worst_first(stack: Stack) -> None:
    """send_email for every queued mail, then the placement messages, then
    send_email again for whatever was put aside."""
    deliver = lambda mail_id: deliver_email(  # noqa: E731
        stack.sessions, stack.settings, mail_id, now=utcnow, last_attempt=False
    )
    with stack.db() as session:
        queued = session.scalars(
            select(EmailMessage.id).where(EmailMessage.state == "queued")
        ).all()
        placements = session.scalars(
            select(OutboxMessage.args).where(
                OutboxMessage.actor == actor_names.SEND_PLACEMENT_MAILS
            )
        ).all()
    for mail_id in queued:
        deliver(mail_id)
    for args in placements:
        send_placement_batch(stack.sessions, stack.settings, stack.broker, args[0], now=utcnow)
    for _ in range(5):
        with stack.db() as session:
            waiting = session.scalars(
                select(EmailMessage.id)
                .where(EmailMessage.state.in_(("queued", "retrying")))
                .order_by(EmailMessage.order_key)
            ).all()
        for mail_id in waiting:
            deliver(mail_id)


def subjects_of(stack: Stack, ref: str) -> list[str]:
    address = f"{ref}@example.org"
    return [m["Subject"] for m in stack.sink.messages if m["To"].addresses[0].addr_spec == address]


def remove(stack: Stack, key: str, ref: str) -> None:
    response = stack.client.delete(f"/v1/events/order/attendees/{ref}", headers=stack.auth(key))
    assert response.status_code == 202, response.text


def enrollment_of(stack: Stack, ref: str) -> str:
    with stack.db() as session:
        found = session.scalar(
            select(Enrollment.id)
            .join(Attendee, Attendee.id == Enrollment.attendee_id)
            .where(Attendee.ref == ref, Enrollment.status.in_(("enrolled", "waitlisted")))
        )
    return str(found)


def removed(stack: Stack, key: str) -> dict[str, list[str]]:
    enroll(stack, key, "order", "ada")
    apply_jobs(stack)
    remove(stack, key, "ada")
    return {"ada": [CONFIRMED, REMOVED]}


def cancelled(stack: Stack, key: str) -> dict[str, list[str]]:
    enroll(stack, key, "order", "ada")
    apply_jobs(stack)
    enrollment = enrollment_of(stack, "ada")
    response = stack.client.post(
        f"/v1/events/order/enrollments/{enrollment}/cancel", headers=stack.auth(key)
    )
    assert response.status_code == 202, response.text
    return {"ada": [CONFIRMED, ENROLLMENT_CANCELLED]}


def promoted(stack: Stack, key: str) -> dict[str, list[str]]:
    enroll(stack, key, "order", "ada")
    enroll(stack, key, "order", "bob")  # the one seat is Ada's: Bob waits
    apply_jobs(stack)
    remove(stack, key, "ada")
    return {"ada": [CONFIRMED, REMOVED], "bob": [WAITLISTED, PROMOTED]}


def event_cancelled(stack: Stack, key: str) -> dict[str, list[str]]:
    enroll(stack, key, "order", "ada")
    apply_jobs(stack)
    response = stack.client.post(
        "/v1/events/order/cancel", json={"reason": "ill"}, headers=stack.auth(key)
    )
    assert response.status_code == 202, response.text
    return {"ada": [CONFIRMED, EVENT_CANCELLED]}


def occurrence_cancelled(stack: Stack, key: str) -> dict[str, list[str]]:
    enroll(stack, key, "order", "ada")
    apply_jobs(stack)
    occurrences = stack.client.get("/v1/events/order/occurrences", headers=stack.auth(key))
    occurrence = occurrences.json()["items"][0]["id"]
    response = stack.client.post(
        f"/v1/events/order/occurrences/{occurrence}/cancel", json={}, headers=stack.auth(key)
    )
    assert response.status_code == 202, response.text
    return {"ada": [CONFIRMED, DATE_CANCELLED]}


def re_enrolled(stack: Stack, key: str) -> dict[str, list[str]]:
    enroll(stack, key, "order", "ada")
    apply_jobs(stack)
    remove(stack, key, "ada")
    apply_jobs(stack)
    enroll(stack, key, "order", "ada")  # through a group again, after the removal
    return {"ada": [CONFIRMED, REMOVED, CONFIRMED]}


CASES: list[Callable[[Stack, str], dict[str, list[str]]]] = [
    removed,
    cancelled,
    promoted,
    event_cancelled,
    occurrence_cancelled,
    re_enrolled,
]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.__name__)
def test_mails_leave_in_the_order_of_their_changes(
    component_stack: Stack, case: Callable[[Stack, str], dict[str, list[str]]]
) -> None:
    component_stack.stop()  # this test hands the messages out itself
    key = component_stack.key()
    published_event(
        component_stack,
        key,
        ref="order",
        max_subscriptions=1,
        waiting_list=True,
        starts_at="2027-03-01T10:00:00+01:00",
        ends_at="2027-03-01T12:00:00+01:00",
    )
    expected = case(component_stack, key)
    apply_jobs(component_stack)

    deliver_worst_first(component_stack)

    for ref, subjects in expected.items():
        assert subjects_of(component_stack, ref) == subjects, ref
    with component_stack.db() as session:
        assert set(session.scalars(select(EmailMessage.state))) == {"sent"}


def test_a_mail_put_aside_counts_no_attempt(component_stack: Stack) -> None:
    component_stack.stop()
    key = component_stack.key()
    published_event(component_stack, key, ref="order", max_subscriptions=1)
    removed(component_stack, key)
    apply_jobs(component_stack)
    with component_stack.db() as session:
        (removal,) = session.scalars(
            select(EmailMessage.id).where(EmailMessage.template == "enrollment_removed")
        ).all()

    outcome = deliver_email(
        component_stack.sessions, component_stack.settings, removal, now=utcnow, last_attempt=False
    )

    assert outcome.state == "blocked"
    with component_stack.db() as session:
        mail = session.get(EmailMessage, removal)
        assert mail is not None and (mail.state, mail.attempts) == ("retrying", 0)
    assert component_stack.sink.messages == []
