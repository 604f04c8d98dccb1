"""Refusals, scopes (occurrence, session) and the per-attendee limit, end to end
on SQLite and the StubBroker."""

from __future__ import annotations

from datetime import timedelta

import pytest

from rollcall.domain.clock import utcnow
from tests.support.enrollment import add_occurrence, add_session, person, set_event, statuses
from tests.support.factories import job, published_event
from tests.support.stack import Stack


def post_enroll(stack: Stack, key: str, event: str, ref: str, **scope: str) -> str:
    response = stack.client.post(
        f"/v1/events/{event}/enrollments",
        json={"attendee": person(ref), **scope},
        headers=stack.auth(key),
    )
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


def outcome(stack: Stack, key: str, job_id: str) -> str:
    done = job(stack, key, job_id)
    if done["status"] == "failed":
        return str(done["errors"][0]["code"])
    return str(done["result"]["status"])


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"cancelled": True}, "EVENT_CANCELLED"),
        ({"status": "completed"}, "EVENT_COMPLETED"),
        ({"status": "draft"}, "EVENT_NOT_PUBLISHED"),
        ({"registration_end": utcnow() - timedelta(minutes=1)}, "REGISTRATION_CLOSED"),
        ({"booking_start": utcnow() + timedelta(days=1)}, "REGISTRATION_NOT_OPEN"),
    ],
)
def test_refusal_codes(component_stack: Stack, fields: dict[str, object], code: str) -> None:
    # Given a published event in a state that takes no enrollment
    key = component_stack.key()
    event = published_event(component_stack, key, ref="ev", max_subscriptions=5)
    set_event(component_stack, event["id"], **fields)
    # When someone enrolls, then the job fails with the distinct code
    accepted = post_enroll(component_stack, key, "ev", "ada")
    component_stack.drain()
    assert outcome(component_stack, key, accepted) == code


def test_occurrence_capacity_is_its_own_or_the_events(component_stack: Stack) -> None:
    # Given an event booked per date: one date with 1 seat, one with the event's 2
    key = component_stack.key()
    event = published_event(component_stack, key, ref="ev", max_subscriptions=2)
    set_event(component_stack, event["id"], booked_per_date=True)
    small = add_occurrence(component_stack, event["id"], days=0, capacity=1)
    usual = add_occurrence(component_stack, event["id"], days=7, capacity=None)

    # When three people enroll on each date
    small_jobs = [post_enroll(component_stack, key, "ev", r, occurrence_id=small) for r in "abc"]
    usual_jobs = [post_enroll(component_stack, key, "ev", r, occurrence_id=usual) for r in "def"]
    whole = post_enroll(component_stack, key, "ev", "g")
    component_stack.drain()

    # Then each date fills to its own capacity, and the event itself needs a date
    assert [outcome(component_stack, key, j) for j in small_jobs] == [
        "enrolled",
        "EVENT_FULL",
        "EVENT_FULL",
    ]
    assert [outcome(component_stack, key, j) for j in usual_jobs] == [
        "enrolled",
        "enrolled",
        "EVENT_FULL",
    ]
    assert outcome(component_stack, key, whole) == "OCCURRENCE_REQUIRED"


def test_session_seat_respects_session_and_event_capacity(component_stack: Stack) -> None:
    # Given an event of 2 seats with a session of 5 and a session of 1
    key = component_stack.key()
    event = published_event(component_stack, key, ref="ev", max_subscriptions=2, waiting_list=True)
    big = add_session(component_stack, event["id"], name="Big", capacity=5)
    tiny = add_session(component_stack, event["id"], name="Tiny", capacity=1)

    # When two enroll in the tiny one and two in the big one
    jobs = [
        post_enroll(component_stack, key, "ev", "a", session_id=tiny),
        post_enroll(component_stack, key, "ev", "b", session_id=tiny),
        post_enroll(component_stack, key, "ev", "c", session_id=big),
        post_enroll(component_stack, key, "ev", "d", session_id=big),
    ]
    component_stack.drain()

    # Then the tiny session holds one, and the event level stops the big one at 1
    assert [outcome(component_stack, key, j) for j in jobs] == [
        "enrolled",
        "waitlisted",
        "enrolled",
        "waitlisted",
    ]
    shown = component_stack.client.get("/v1/events/ev", headers=component_stack.auth(key)).json()
    assert shown["enrolled_count"] == 2


def test_max_enrollments_per_attendee(component_stack: Stack) -> None:
    key = component_stack.key()
    event = published_event(component_stack, key, ref="ev", max_subscriptions=10)
    set_event(component_stack, event["id"], booked_per_date=True, max_per_attendee=2)
    dates = [add_occurrence(component_stack, event["id"], days=d, capacity=None) for d in (0, 1, 2)]

    jobs = [post_enroll(component_stack, key, "ev", "ada", occurrence_id=d) for d in dates]
    component_stack.drain()

    # (two worker threads apply the jobs in either order: whichever comes third is refused)
    assert sorted(outcome(component_stack, key, j) for j in jobs) == [
        "MAX_ENROLLMENTS_REACHED",
        "enrolled",
        "enrolled",
    ]


def test_unknown_occurrence_and_not_booked_per_date(component_stack: Stack) -> None:
    key = component_stack.key()
    event = published_event(component_stack, key, ref="ev")
    other = add_occurrence(component_stack, event["id"], days=0, capacity=None)
    wrong = post_enroll(component_stack, key, "ev", "ada", occurrence_id=other)
    unknown = post_enroll(component_stack, key, "ev", "bob", session_id=other)
    component_stack.drain()
    assert outcome(component_stack, key, wrong) == "EVENT_NOT_BOOKED_PER_DATE"
    assert outcome(component_stack, key, unknown) == "SESSION_NOT_FOUND"
    assert statuses(component_stack) == {}


def test_removal_in_an_occurrence_or_session_promotes_within_it(component_stack: Stack) -> None:
    # Given a date and a session of one seat each, each with one person waiting
    key = component_stack.key()
    event = published_event(component_stack, key, ref="ev", max_subscriptions=10, waiting_list=True)
    set_event(component_stack, event["id"], booked_per_date=True)
    date = add_occurrence(component_stack, event["id"], days=0, capacity=1)
    part = add_session(component_stack, event["id"], name="Lab", capacity=1)
    for ref in ("d1", "d2"):
        post_enroll(component_stack, key, "ev", ref, occurrence_id=date)
    for ref in ("s1", "s2"):
        post_enroll(component_stack, key, "ev", ref, session_id=part)
    component_stack.drain()
    assert statuses(component_stack) == {
        "d1": "enrolled",
        "d2": "waitlisted",
        "s1": "enrolled",
        "s2": "waitlisted",
    }

    # When the first of each is removed from that date / that session
    for ref, query in (("d1", f"occurrence_id={date}"), ("s1", f"session_id={part}")):
        response = component_stack.client.delete(
            f"/v1/events/ev/attendees/{ref}?{query}", headers=component_stack.auth(key)
        )
        assert response.status_code == 202
    component_stack.drain()

    # Then the one waiting there takes the seat
    assert statuses(component_stack) == {
        "d1": "removed",
        "d2": "enrolled",
        "s1": "removed",
        "s2": "enrolled",
    }
