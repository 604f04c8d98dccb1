"""Removal and cancellation free the seat and promote the first waitlisted, in
the same transaction; payments stay as orphans."""

from __future__ import annotations

from sqlalchemy import select

from rollcall.models import Enrollment, Event, Payment
from tests.support.enrollment import mail_templates, person, statuses
from tests.support.factories import enroll, job, published_event
from tests.support.stack import Stack


def remove(stack: Stack, key: str, event: str, ref: str) -> dict[str, object]:
    response = stack.client.delete(f"/v1/events/{event}/attendees/{ref}", headers=stack.auth(key))
    assert response.status_code == 202, response.text
    stack.drain()
    return job(stack, key, response.json()["id"])


def test_remove_promotes_first_waitlisted_and_keeps_payment(component_stack: Stack) -> None:
    # Given one seat taken by ada, and bob then cy on the waiting list
    key = component_stack.key()
    published_event(component_stack, key, ref="ev", max_subscriptions=1, waiting_list=True)
    for ref in ("ada", "bob", "cy"):
        enroll(component_stack, key, "ev", ref)
        component_stack.drain()

    # When the organiser removes ada
    done = remove(component_stack, key, "ev", "ada")

    # Then bob (first in line) has the seat, cy moves up, ada's payment is an orphan
    assert done["status"] == "succeeded"
    assert [p["attendee_ref"] for p in done["result"]["promoted"]] == ["bob"]  # type: ignore[index]
    assert statuses(component_stack) == {"ada": "removed", "bob": "enrolled", "cy": "waitlisted"}
    assert ("ada", "enrollment_removed") in mail_templates(component_stack)
    assert ("bob", "enrollment_promoted") in mail_templates(component_stack)
    with component_stack.db() as session:
        event = session.scalars(select(Event)).one()
        assert (event.enrolled_count, event.waitlisted_count) == (1, 1)
        assert len(session.scalars(select(Payment)).all()) == 2  # ada's kept, bob's new
    listed = component_stack.client.get(
        "/v1/events/ev/enrollments?status=waitlisted", headers=component_stack.auth(key)
    ).json()
    assert [(i["attendee_ref"], i["waitlist_position"]) for i in listed["items"]] == [("cy", 1)]


def test_remove_then_reenroll_accumulates_orphan_payments(component_stack: Stack) -> None:
    key = component_stack.key()
    event = published_event(component_stack, key, ref="ev", max_subscriptions=3)
    for _ in range(2):
        enroll(component_stack, key, "ev", "ada")
        component_stack.drain()
        assert remove(component_stack, key, "ev", "ada")["status"] == "succeeded"
    enroll(component_stack, key, "ev", "ada")
    component_stack.drain()

    shown = component_stack.client.get(
        "/v1/attendees/ada/enrollments", headers=component_stack.auth(key)
    ).json()
    assert [e["status"] for e in shown["enrollments"]] == ["enrolled", "removed", "removed"]
    assert shown["orphan_payments"] == [{"event_id": event["id"], "count": 2}]
    with component_stack.db() as session:
        assert len(session.scalars(select(Payment)).all()) == 3


def test_cancel_waitlisted_place_promotes_nobody(component_stack: Stack) -> None:
    key = component_stack.key()
    published_event(component_stack, key, ref="ev", max_subscriptions=1, waiting_list=True)
    enroll(component_stack, key, "ev", "ada")
    enroll(component_stack, key, "ev", "bob")
    component_stack.drain()
    with component_stack.db() as session:
        bob = session.scalars(select(Enrollment).where(Enrollment.status == "waitlisted")).one()

    response = component_stack.client.post(
        f"/v1/events/ev/enrollments/{bob.id}/cancel", headers=component_stack.auth(key)
    )
    component_stack.drain()
    done = job(component_stack, key, response.json()["id"])
    assert (done["status"], done["result"]["promoted"]) == ("succeeded", [])
    assert statuses(component_stack) == {"ada": "enrolled", "bob": "cancelled"}
    with component_stack.db() as session:
        event = session.scalars(select(Event)).one()
        assert (event.enrolled_count, event.waitlisted_count) == (1, 0)

    # Cancelling again is refused: it is no longer active
    again = component_stack.client.post(
        f"/v1/events/ev/enrollments/{bob.id}/cancel", headers=component_stack.auth(key)
    )
    component_stack.drain()
    assert (
        job(component_stack, key, again.json()["id"])["errors"][0]["code"] == "ENROLLMENT_NOT_FOUND"
    )


def test_cancel_enrolled_promotes_and_mails(component_stack: Stack) -> None:
    key = component_stack.key()
    published_event(component_stack, key, ref="ev", max_subscriptions=1, waiting_list=True)
    first = enroll(component_stack, key, "ev", "ada")
    enroll(component_stack, key, "ev", "bob")
    component_stack.drain()
    ada = job(component_stack, key, first["id"])["result"]["enrollment_id"]

    component_stack.client.post(
        f"/v1/events/ev/enrollments/{ada}/cancel", headers=component_stack.auth(key)
    )
    component_stack.drain()

    assert statuses(component_stack) == {"ada": "cancelled", "bob": "enrolled"}
    assert mail_templates(component_stack) == [
        ("ada", "enrollment_cancelled"),
        ("ada", "enrollment_confirmed"),
        ("bob", "enrollment_promoted"),
        ("bob", "enrollment_waitlisted"),
    ]
    subjects = sorted(m["Subject"] for m in component_stack.sink.wait_for(4))
    assert "A seat is yours: Intro to Rollcall" in subjects


def test_unknown_attendee_and_bad_ids(component_stack: Stack) -> None:
    key = component_stack.key()
    published_event(component_stack, key, ref="ev")
    assert remove(component_stack, key, "ev", "nobody")["errors"][0]["code"] == "ATTENDEE_NOT_FOUND"  # type: ignore[index]
    bad = component_stack.client.post(
        "/v1/events/ev/enrollments/nope/cancel", headers=component_stack.auth(key)
    )
    assert (bad.status_code, bad.json()["error"]["code"]) == (404, "ENROLLMENT_NOT_FOUND")
    cursor = component_stack.client.get(
        "/v1/events/ev/enrollments?after=zzz", headers=component_stack.auth(key)
    )
    assert (cursor.status_code, cursor.json()["error"]["code"]) == (422, "INVALID_CURSOR")
    missing = component_stack.client.get(
        "/v1/attendees/nobody/enrollments", headers=component_stack.auth(key)
    )
    assert missing.status_code == 404


def test_list_enrollments_pages_in_arrival_order(component_stack: Stack) -> None:
    key = component_stack.key()
    published_event(component_stack, key, ref="ev", max_subscriptions=2, waiting_list=True)
    for ref in ("a1", "a2", "a3", "a4", "a5"):
        enroll(component_stack, key, "ev", ref)
    component_stack.drain()

    seen: list[tuple[str, str]] = []
    url = "/v1/events/ev/enrollments?limit=2"
    while True:
        page = component_stack.client.get(url, headers=component_stack.auth(key)).json()
        seen += [(i["attendee_ref"], i["status"]) for i in page["items"]]
        if page["next_cursor"] is None:
            break
        url = f"/v1/events/ev/enrollments?limit=2&after={page['next_cursor']}"
    assert [ref for ref, _ in seen] == ["a1", "a2", "a3", "a4", "a5"]
    assert sorted(status for _, status in seen).count("enrolled") == 2
    assert person("x")["email"] == "x@example.org"


def test_raised_capacity_promotes_in_line_order(component_stack: Stack) -> None:
    # Given one seat and three people waiting
    key = component_stack.key()
    published_event(component_stack, key, ref="ev", max_subscriptions=1, waiting_list=True)
    for ref in ("ada", "bob", "cy", "dee"):
        enroll(component_stack, key, "ev", ref)
    component_stack.drain()

    # When the capacity is raised to 3 and promote_waitlisted runs in that transaction
    from rollcall.domain.clock import utcnow
    from rollcall.domain.enrollment.waitlist import promote_waitlisted

    with component_stack.db() as session:
        event = session.scalars(select(Event)).one()
        event.max_subscriptions = 3
        session.flush()
        promoted = promote_waitlisted(session, event=event, scope_key="event", now=utcnow())
        assert [p.attendee.ref for p in promoted] == ["bob", "cy"]

    # Then the first two in line have seats and payments, the third still waits
    assert statuses(component_stack) == {
        "ada": "enrolled",
        "bob": "enrolled",
        "cy": "enrolled",
        "dee": "waitlisted",
    }
    with component_stack.db() as session:
        event = session.scalars(select(Event)).one()
        assert (event.enrolled_count, event.waitlisted_count) == (3, 1)
        assert len(session.scalars(select(Payment)).all()) == 3
    assert [t for r, t in mail_templates(component_stack) if r in ("bob", "cy")].count(
        "enrollment_promoted"
    ) == 2
