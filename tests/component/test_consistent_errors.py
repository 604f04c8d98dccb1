"""Issue 14, finding 6: one rule, one code, one honest message. Each refusal
says what is wrong with the request it refuses, and the same rule answers the
same way on every route."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.calendar import calendar, issue_token
from tests.support.event_helpers import call, ok, refused
from tests.support.factories import create_event, enroll, job, published_event
from tests.support.stack import Stack

DATES = [
    {"starts_at": "2030-03-01T09:00:00Z", "ends_at": "2030-03-01T12:00:00Z"},
    {"starts_at": "2030-03-08T09:00:00Z", "ends_at": "2030-03-08T12:00:00Z"},
]


def _per_date_event(stack: Stack, key: str, ref: str) -> list[dict[str, Any]]:
    """A published event booked per date on DATES; returns its occurrences."""
    published_event(stack, key, ref=ref, dates=DATES, booked_per_date=True, max_subscriptions=5)
    items: list[dict[str, Any]] = ok(call(stack, key, "GET", f"/v1/events/{ref}/occurrences"))[
        "items"
    ]
    return items


def _enroll_body(ref: str, **scope: Any) -> dict[str, Any]:
    return {"attendee": {"ref": ref, "email": f"{ref}@example.org", "name": ref.title()}} | scope


def test_a_cancelled_date_refuses_an_enrollment_without_speaking_of_reminders(
    component_stack: Stack,
) -> None:
    # Given a per-date event whose first date is cancelled
    key = component_stack.key()
    first, _ = _per_date_event(component_stack, key, "pd")
    ok(call(component_stack, key, "POST", f"/v1/events/pd/occurrences/{first['id']}/cancel"), 202)
    component_stack.drain()

    # When an attendee asks for a seat on that date
    accepted = ok(
        call(
            component_stack,
            key,
            "POST",
            "/v1/events/pd/enrollments",
            json=_enroll_body("ada", occurrence_id=first["id"]),
        ),
        202,
    )
    component_stack.drain()

    # Then the job fails with OCCURRENCE_CANCELLED, in words about enrolling
    (error,) = job(component_stack, key, accepted["id"])["errors"]
    assert error["code"] == "OCCURRENCE_CANCELLED"
    assert error["message"] == "The occurrence is cancelled; it takes no enrollments."


def test_delete_refusal_counts_enrollments_and_payments_apart_and_speaks_of_records(
    component_stack: Stack,
) -> None:
    # Given a draft that had one enrollment, since removed (its payment stays)
    key = component_stack.key()
    published_event(component_stack, key, ref="hist", max_subscriptions=5)
    enroll(component_stack, key, "hist", "ada")
    component_stack.drain()
    ok(call(component_stack, key, "DELETE", "/v1/events/hist/attendees/ada"), 202)
    component_stack.drain()
    ok(call(component_stack, key, "POST", "/v1/events/hist/unpublish"))

    # When the organiser deletes it
    error = refused(
        call(component_stack, key, "DELETE", "/v1/events/hist"), 409, "EVENT_HAS_ENROLLMENTS"
    )

    # Then the refusal counts each kind of record on its own, and no seat is taken
    assert error["details"] == {"enrollments": 1, "payments": 1}
    assert "seat" not in error["message"].lower()
    assert error["message"] == (
        "The event has enrollment or payment records; deleting it would erase them."
    )


def test_unpublish_refusal_speaks_of_the_seats_taken(component_stack: Stack) -> None:
    key = component_stack.key()
    published_event(component_stack, key, ref="taken", max_subscriptions=5)
    enroll(component_stack, key, "taken", "ada")
    component_stack.drain()
    error = refused(
        call(component_stack, key, "POST", "/v1/events/taken/unpublish"),
        409,
        "EVENT_HAS_ENROLLMENTS",
    )
    assert error["details"] == {"seats_taken": 1}


def test_min_above_max_is_one_code_on_create_and_on_patch(component_stack: Stack) -> None:
    key = component_stack.key()
    body = {"name": "x", "type": "MEETING", "min_subscriptions": 5, "max_subscriptions": 4}
    created = refused(
        call(component_stack, key, "POST", "/v1/events", json=body), 422, "MIN_ABOVE_MAX"
    )
    create_event(component_stack, key, ref="cap", max_subscriptions=4)
    patched = refused(
        call(component_stack, key, "PATCH", "/v1/events/cap", json={"min_subscriptions": 5}),
        422,
        "MIN_ABOVE_MAX",
    )
    assert created["message"] == patched["message"]
    assert created["details"] == patched["details"]


def test_patch_resending_an_unchanged_draft_only_field_is_accepted(
    component_stack: Stack,
) -> None:
    # Given a published event
    key = component_stack.key()
    event = published_event(
        component_stack,
        key,
        ref="pub",
        starts_at="2030-05-01T09:00:00Z",
        ends_at="2030-05-01T12:00:00Z",
    )

    # When a client re-sends the draft-only fields as they are, with a real change
    same = {
        "name": event["name"],
        "timezone": event["timezone"],
        "dates": [{"starts_at": "2030-05-01T09:00:00Z", "ends_at": "2030-05-01T12:00:00Z"}],
        "description": "Bring a notebook",
    }
    patched = ok(call(component_stack, key, "PATCH", "/v1/events/pub", json=same))

    # Then the change is applied; only changing a draft-only field is refused
    assert patched["description"] == "Bring a notebook"
    refused(
        call(component_stack, key, "PATCH", "/v1/events/pub", json={"name": "Renamed"}),
        409,
        "EVENT_NOT_DRAFT",
    )
    moved = {"dates": [{"starts_at": "2030-05-02T09:00:00Z", "ends_at": "2030-05-02T12:00:00Z"}]}
    refused(
        call(component_stack, key, "PATCH", "/v1/events/pub", json=moved), 409, "EVENT_NOT_DRAFT"
    )


def test_copy_refuses_unknown_fields(component_stack: Stack) -> None:
    key = component_stack.key()
    create_event(component_stack, key, ref="orig")
    refused(
        call(component_stack, key, "POST", "/v1/events/orig/copy", json={"reff": "typo"}),
        422,
        "VALIDATION_ERROR",
    )


def test_occurrence_and_session_together_are_refused_on_every_route(
    component_stack: Stack,
) -> None:
    # Given a per-date event with a session
    key = component_stack.key()
    first, _ = _per_date_event(component_stack, key, "both")
    session = ok(
        call(
            component_stack,
            key,
            "POST",
            "/v1/events/both/sessions",
            json={"name": "Morning", "capacity": 3},
        ),
        201,
    )
    scope = {"occurrence_id": first["id"], "session_id": session["id"]}

    # Then enroll, bulk enroll and remove refuse a request naming both, at once
    requests = [
        ("POST", "/v1/events/both/enrollments", {"json": _enroll_body("ada", **scope)}),
        (
            "POST",
            "/v1/events/both/enrollments/bulk",
            {"json": {"attendees": [_enroll_body("ada")["attendee"]], **scope}},
        ),
        ("DELETE", "/v1/events/both/attendees/ada", {"params": scope}),
    ]
    for method, path, kwargs in requests:
        error = refused(
            call(component_stack, key, method, path, **kwargs), 422, "OCCURRENCE_AND_SESSION"
        )
        assert error["details"] == scope


@pytest.mark.parametrize("value", ["maybe", "2"])
def test_calendar_bookmarked_takes_a_boolean_only(component_stack: Stack, value: str) -> None:
    key = component_stack.key()
    enroll(component_stack, key, published_event(component_stack, key)["id"], "ada")
    component_stack.drain()
    token = issue_token(component_stack, key, "ada")
    response = calendar(component_stack, token, bookmarked=value)
    error = refused(response, 422, "VALIDATION_ERROR")
    assert error["details"]["parameter"] == "bookmarked"
    ok(calendar(component_stack, token, bookmarked="false"))


def test_the_date_cancelled_mail_speaks_of_other_dates_only_to_who_has_some(
    component_stack: Stack,
) -> None:
    # Given a per-date event: Ada holds a seat on the first date only, Bob on both
    key = component_stack.key()
    first, second = _per_date_event(component_stack, key, "two")
    for ref, dates in (("ada", [first]), ("bob", [first, second])):
        for date in dates:
            body = _enroll_body(ref, occurrence_id=date["id"])
            ok(call(component_stack, key, "POST", "/v1/events/two/enrollments", json=body), 202)
            component_stack.drain()

    # When the first date is cancelled
    ok(call(component_stack, key, "POST", f"/v1/events/two/occurrences/{first['id']}/cancel"), 202)
    component_stack.drain()

    # Then only Bob, who still has a date, is told his other dates stand
    mails = [m for m in component_stack.sink.wait_for(5) if m["Subject"].startswith("Date")]
    text = {
        m["To"].addresses[0].username: m.get_body(preferencelist=("plain",)).get_content()
        for m in mails
    }
    assert sorted(text) == ["ada", "bob"]
    assert "other dates" not in text["ada"]
    assert "Your other dates of this event are not affected." in text["bob"]
