"""One enrollment end to end on SQLite and the StubBroker."""

from __future__ import annotations

from sqlalchemy import func, select

from rollcall.models import EmailMessage, Enrollment, OutboxMessage, Payment
from tests.support.factories import create_event, enroll, job, published_event
from tests.support.stack import Stack


def test_enroll_creates_enrollment_payment_and_mail(component_stack: Stack) -> None:
    # Given a published event with two seats
    key = component_stack.key()
    event = published_event(component_stack, key, ref="intro", max_subscriptions=2)

    # When an attendee is enrolled through the API
    accepted = enroll(component_stack, key, "intro", "ada")
    component_stack.drain()

    # Then the job succeeded with an enrolled seat, a zero payment and a queued mail
    done = job(component_stack, key, accepted["id"])
    assert done["status"] == "succeeded"
    assert done["result"]["status"] == "enrolled"
    with component_stack.db() as session:
        enrollment = session.scalars(select(Enrollment)).one()
        payment = session.scalars(select(Payment)).one()
        mail = session.scalars(select(EmailMessage)).one()
        assert session.scalar(select(func.count()).where(OutboxMessage.sent_at.is_(None))) == 0
    assert enrollment.status == "enrolled"
    assert (payment.state, payment.amount, payment.enrollment_id) == (
        "manual_enrolled",
        0,
        enrollment.id,
    )
    assert mail.template == "enrollment_confirmed"
    assert mail.to_address == "ada@example.org"
    shown = component_stack.client.get(
        f"/v1/events/{event['id']}", headers=component_stack.auth(key)
    ).json()
    assert (shown["enrolled_count"], shown["spots_available"]) == (1, 1)


def test_full_event_without_waiting_list_fails_the_job(component_stack: Stack) -> None:
    key = component_stack.key()
    published_event(component_stack, key, ref="tiny", max_subscriptions=1)
    enroll(component_stack, key, "tiny", "ada")
    refused = enroll(component_stack, key, "tiny", "bob")
    component_stack.drain()

    done = job(component_stack, key, refused["id"])
    assert done["status"] == "failed"
    assert done["errors"][0]["code"] == "EVENT_FULL"


def test_draft_event_refuses_enrollment(component_stack: Stack) -> None:
    key = component_stack.key()
    create_event(component_stack, key, ref="draft")
    accepted = enroll(component_stack, key, "draft", "ada")
    component_stack.drain()
    assert job(component_stack, key, accepted["id"])["errors"][0]["code"] == "EVENT_NOT_PUBLISHED"


def test_waitlisted_when_full_with_waiting_list(component_stack: Stack) -> None:
    key = component_stack.key()
    published_event(component_stack, key, ref="wl", max_subscriptions=1, waiting_list=True)
    enroll(component_stack, key, "wl", "ada")
    second = enroll(component_stack, key, "wl", "bob")
    component_stack.drain()
    result = job(component_stack, key, second["id"])["result"]
    assert (result["status"], result["waitlist_position"]) == ("waitlisted", 1)


def test_already_enrolled(component_stack: Stack) -> None:
    key = component_stack.key()
    published_event(component_stack, key, ref="dup")
    enroll(component_stack, key, "dup", "ada")
    again = enroll(component_stack, key, "dup", "ada")
    component_stack.drain()
    assert job(component_stack, key, again["id"])["errors"][0]["code"] == "ALREADY_ENROLLED"
