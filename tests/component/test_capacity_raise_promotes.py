"""Raising an event's capacity with PATCH promotes the waiting list, first come
first served, in the same transaction, and mails the promoted attendees."""

from __future__ import annotations

from sqlalchemy import select

from rollcall.models import EmailMessage, Enrollment
from tests.support.factories import enroll, published_event
from tests.support.stack import Stack


def test_patch_raising_capacity_promotes_in_arrival_order(component_stack: Stack) -> None:
    # Given a full event with three attendees waiting
    key = component_stack.key()
    published_event(component_stack, key, ref="grow", max_subscriptions=1, waiting_list=True)
    for ref in ("ada", "bob", "cy", "dee"):
        enroll(component_stack, key, "grow", ref)
    component_stack.drain()

    # When the organiser raises the capacity from 1 to 3
    response = component_stack.client.patch(
        "/v1/events/grow", json={"max_subscriptions": 3}, headers=component_stack.auth(key)
    )
    component_stack.drain()

    # Then the first two waiting are enrolled, the third still waits, and counts agree
    assert response.status_code == 200, response.text
    with component_stack.db() as session:
        status = {e.attendee.ref: e.status for e in session.scalars(select(Enrollment)).unique()}
        promoted_mail = session.scalars(
            select(EmailMessage.to_address).where(EmailMessage.template == "enrollment_promoted")
        ).all()
    assert status == {"ada": "enrolled", "bob": "enrolled", "cy": "enrolled", "dee": "waitlisted"}
    assert sorted(promoted_mail) == ["bob@example.org", "cy@example.org"]
    shown = component_stack.client.get("/v1/events/grow", headers=component_stack.auth(key)).json()
    assert (shown["enrolled_count"], shown["waitlisted_count"], shown["spots_available"]) == (
        3,
        1,
        0,
    )
    subjects = sorted(m["To"].addresses[0].addr_spec for m in component_stack.sink.wait_for(6)[4:])
    assert subjects == ["bob@example.org", "cy@example.org"]
