"""Issue 14, findings 3 and 4: sessions follow their event. A draft's dates
changing carries its sessions along (or is refused with a code), and
republishing brings back the sessions unpublishing turned off, and only those."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.calendar import calendar, issue_token
from tests.support.event_helpers import DAILY, call, ok, refused
from tests.support.factories import create_event, job
from tests.support.stack import Stack


@pytest.fixture(autouse=True)
def _long_horizon(component_stack: Stack) -> None:
    component_stack.settings.occurrence_horizon_days = 3650


def _occurrences(stack: Stack, key: str, ref: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = ok(call(stack, key, "GET", f"/v1/events/{ref}/occurrences"))[
        "items"
    ]
    return items


def _session(stack: Stack, key: str, ref: str, **body: Any) -> dict[str, Any]:
    created: dict[str, Any] = ok(
        call(stack, key, "POST", f"/v1/events/{ref}/sessions", json=body), 201
    )
    return created


def test_a_draft_s_new_dates_carry_its_sessions_along(component_stack: Stack) -> None:
    # Given a draft of five daily dates and a lab on the second one
    key = component_stack.key()
    create_event(component_stack, key, ref="d", recurrence=DAILY, max_subscriptions=5)
    second = _occurrences(component_stack, key, "d")[1]
    lab = _session(
        component_stack,
        key,
        "d",
        name="Lab",
        occurrences={"type": "specific", "ids": [second["id"]]},
    )

    # When the rule grows to eight dates (the occurrences are made afresh)
    rule = DAILY | {"ends": {"type": "after", "count": 8}}
    ok(call(component_stack, key, "PATCH", "/v1/events/d", json={"recurrence": rule}))

    # Then the lab runs on the new occurrence with the same start
    now = {o["id"]: o["starts_at"]["utc"] for o in _occurrences(component_stack, key, "d")}
    assert len(now) == 8 and second["id"] not in now
    (carried,) = ok(call(component_stack, key, "GET", f"/v1/events/d/sessions/{lab['id']}"))[
        "occurrences"
    ]["ids"]
    assert now[carried] == second["starts_at"]["utc"]

    # And an attendee enrolled in the lab sees that date in the calendar
    ok(call(component_stack, key, "POST", "/v1/events/d/publish"))
    body = {"attendee": {"ref": "ada", "email": "ada@example.org"}, "session_id": lab["id"]}
    accepted = ok(call(component_stack, key, "POST", "/v1/events/d/enrollments", json=body), 202)
    component_stack.drain()
    assert job(component_stack, key, accepted["id"])["status"] == "succeeded"
    entries = ok(calendar(component_stack, issue_token(component_stack, key, "ada")))
    personal = [e["starts_at"]["utc"] for e in entries["entries"] if e["personal"]]
    assert personal == [second["starts_at"]["utc"]]


def test_a_change_that_removes_a_session_s_date_is_refused(component_stack: Stack) -> None:
    # Given a draft with a lab on its second date
    key = component_stack.key()
    create_event(component_stack, key, ref="m", recurrence=DAILY)
    before = _occurrences(component_stack, key, "m")
    lab = _session(
        component_stack,
        key,
        "m",
        name="Lab",
        occurrences={"type": "specific", "ids": [before[1]["id"]]},
    )

    # When the dates move an hour later, no start stays
    later = DAILY | {"starts_on": "2030-01-07T10:00:00"}
    error = refused(
        call(component_stack, key, "PATCH", "/v1/events/m", json={"recurrence": later}),
        409,
        "SESSION_OCCURRENCE_REMOVED",
    )

    # Then the refusal names the session and its date, and nothing changed
    assert error["details"]["sessions"] == [
        {"session_id": lab["id"], "name": "Lab", "starts_at": ["2030-01-08T08:00:00+00:00"]}
    ]
    assert _occurrences(component_stack, key, "m") == before
    # Once the lab runs on all dates, the same change goes through
    ok(
        call(
            component_stack,
            key,
            "PATCH",
            f"/v1/events/m/sessions/{lab['id']}",
            json={"occurrences": {"type": "all"}},
        )
    )
    ok(call(component_stack, key, "PATCH", "/v1/events/m", json={"recurrence": later}))


def _statuses(stack: Stack, key: str, ref: str) -> dict[str, str]:
    listed = ok(call(stack, key, "GET", f"/v1/events/{ref}/sessions"))
    return {s["name"]: s["status"] for s in listed}


def test_republishing_brings_back_the_sessions_unpublish_turned_off(
    component_stack: Stack,
) -> None:
    # Given a published event with two active sessions and one the organiser turned off
    key = component_stack.key()
    create_event(component_stack, key, ref="r", recurrence=DAILY)
    for name, status in (("Morning", "active"), ("Evening", "active"), ("Closed", "inactive")):
        _session(component_stack, key, "r", name=name, status=status)
    ok(call(component_stack, key, "POST", "/v1/events/r/publish"))

    # When it is unpublished, every session is off
    ok(call(component_stack, key, "POST", "/v1/events/r/unpublish"))
    assert set(_statuses(component_stack, key, "r").values()) == {"inactive"}

    # And while a draft the organiser decides Evening stays off
    evening = next(
        s
        for s in ok(call(component_stack, key, "GET", "/v1/events/r/sessions"))
        if s["name"] == "Evening"
    )
    ok(
        call(
            component_stack,
            key,
            "PATCH",
            f"/v1/events/r/sessions/{evening['id']}",
            json={"status": "inactive"},
        )
    )

    # Then publishing again brings back only what unpublish turned off and nobody kept off
    ok(call(component_stack, key, "POST", "/v1/events/r/publish"))
    assert _statuses(component_stack, key, "r") == {
        "Morning": "active",
        "Evening": "inactive",
        "Closed": "inactive",
    }
