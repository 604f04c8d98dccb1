"""Booking windows (seed 002 ``booking_starts_on`` / ``booking_ends_on``) and
ended dates over HTTP on SQLite: the worker's rule, the calendar's CTAs, and
the bad input refused at the edge."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from rollcall.domain.clock import utcnow
from tests.support import booking_scenarios
from tests.support.booking_scenarios import (
    MINUTE,
    enroll_job,
    occurrence_ids,
    outcome,
    span,
)
from tests.support.calendar import add_attendee, issue_token, org_id
from tests.support.factories import create_event, published_event
from tests.support.stack import Stack


def test_an_ended_date_takes_no_enrollment_single_grouped_or_bulk(component_stack: Stack) -> None:
    booking_scenarios.ended_running_and_future_dates(component_stack)


def test_an_ended_event_takes_no_enrollment_before_its_completion(component_stack: Stack) -> None:
    booking_scenarios.ended_event_booked_as_a_whole(component_stack)


def test_offsets_before_each_date(component_stack: Stack) -> None:
    booking_scenarios.offsets_before_each_date(component_stack)


def test_a_fixed_window_shown_patched_and_copied(component_stack: Stack) -> None:
    stack = component_stack
    key = stack.key()
    # Given a draft whose booking opens and closes on fixed dates
    event = create_event(
        stack,
        key,
        ref="fixed",
        timezone="Europe/Amsterdam",
        booking_starts_on={"type": "ON_DATE", "utc": "2031-01-01T08:00:00Z"},
        booking_ends_on={"type": "ON_DATE", "utc": "2031-02-01T08:00:00Z"},
    )
    # Then it shows both, in UTC and local time, and as the older fields too
    assert event["booking_starts_on"] == {
        "type": "ON_DATE",
        "utc": "2031-01-01T08:00:00Z",
        "local": "2031-01-01T09:00:00+01:00",
        "occurrence_booking_start_offset": None,
    }
    assert event["booking_ends_on"]["type"] == "ON_DATE"
    assert event["registration_end"]["utc"] == "2031-02-01T08:00:00Z"

    # When the closing becomes an offset, then the fixed date is gone
    patched = stack.client.patch(
        "/v1/events/fixed",
        json={
            "booking_ends_on": {"type": "BEFORE_OCCURRENCE", "occurrence_booking_end_offset": 30}
        },
        headers=stack.auth(key),
    )
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert body["booking_ends_on"] == {
        "type": "BEFORE_OCCURRENCE",
        "utc": None,
        "local": None,
        "occurrence_booking_end_offset": 30,
    }
    assert body["registration_end"] is None

    # And a copy keeps the window; null resets it to the defaults
    copy = stack.client.post("/v1/events/fixed/copy", json={"ref": "c"}, headers=stack.auth(key))
    assert copy.status_code == 201
    assert copy.json()["booking_ends_on"]["occurrence_booking_end_offset"] == 30
    assert copy.json()["booking_starts_on"]["type"] == "ON_DATE"
    reset = stack.client.patch(
        "/v1/events/c",
        json={"booking_starts_on": None, "booking_ends_on": None},
        headers=stack.auth(key),
    ).json()
    assert reset["booking_starts_on"]["type"] == "IMMEDIATE"
    assert reset["booking_ends_on"]["type"] == "CONTINUE_UNTIL_EVENT_ENDS"


def test_the_closing_rule_changes_only_in_draft(component_stack: Stack) -> None:
    stack = component_stack
    key = stack.key()
    published_event(stack, key, ref="pub")
    response = stack.client.patch(
        "/v1/events/pub",
        json={"booking_ends_on": {"type": "BEFORE_OCCURRENCE", "occurrence_booking_end_offset": 5}},
        headers=stack.auth(key),
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "EVENT_NOT_DRAFT"
    # the opening may still move (as booking_start always could)
    opened = stack.client.patch(
        "/v1/events/pub",
        json={
            "booking_starts_on": {"type": "BEFORE_OCCURRENCE", "occurrence_booking_start_offset": 5}
        },
        headers=stack.auth(key),
    )
    assert opened.status_code == 200, opened.text


START = "booking_starts_on"
END = "booking_ends_on"


@pytest.mark.parametrize(
    ("body", "status", "code", "error_type"),
    [
        # an offset is never negative
        (
            {END: {"type": "BEFORE_OCCURRENCE", "occurrence_booking_end_offset": -1}},
            422,
            "VALIDATION_ERROR",
            "greater_than_equal",
        ),
        (
            {START: {"type": "BEFORE_OCCURRENCE", "occurrence_booking_start_offset": -60}},
            422,
            "VALIDATION_ERROR",
            "greater_than_equal",
        ),
        # nor above a year, nor not a whole number
        (
            {START: {"type": "BEFORE_OCCURRENCE", "occurrence_booking_start_offset": 10**9}},
            422,
            "VALIDATION_ERROR",
            "less_than_equal",
        ),
        (
            {END: {"type": "BEFORE_OCCURRENCE", "occurrence_booking_end_offset": 1.5}},
            422,
            "VALIDATION_ERROR",
            "int_from_float",
        ),
        # each type takes its own fields, and needs them
        ({END: {"type": "ON_DATE"}}, 422, "VALIDATION_ERROR", "value_error"),
        ({START: {"type": "BEFORE_OCCURRENCE"}}, 422, "VALIDATION_ERROR", "value_error"),
        (
            {START: {"type": "IMMEDIATE", "utc": "2031-01-01T00:00:00Z"}},
            422,
            "VALIDATION_ERROR",
            "value_error",
        ),
        (
            {END: {"type": "CONTINUE_UNTIL_EVENT_ENDS", "occurrence_booking_end_offset": 1}},
            422,
            "VALIDATION_ERROR",
            "value_error",
        ),
        ({END: {"type": "WHENEVER"}}, 422, "VALIDATION_ERROR", "literal_error"),
        ({END: {"type": "ON_DATE", "utc": "2031-01-01T00:00:00"}}, 422, "VALIDATION_ERROR", None),
        ({END: {"type": "ON_DATE", "utc": "9999-01-01T00:00:00Z"}}, 422, "VALIDATION_ERROR", None),
        ({END: {"type": "ON_DATE", "level": "EVENT"}}, 422, "VALIDATION_ERROR", None),
        # one way to give each end
        (
            {
                END: {"type": "CONTINUE_UNTIL_EVENT_ENDS"},
                "registration_end": "2031-01-01T00:00:00Z",
            },
            422,
            "VALIDATION_ERROR",
            "value_error",
        ),
        (
            {START: {"type": "IMMEDIATE"}, "booking_start": "2031-01-01T00:00:00Z"},
            422,
            "VALIDATION_ERROR",
            "value_error",
        ),
        # a window that closes before it opens
        (
            {
                START: {"type": "ON_DATE", "utc": "2031-02-01T00:00:00Z"},
                END: {"type": "ON_DATE", "utc": "2031-01-01T00:00:00Z"},
            },
            422,
            "BOOKING_WINDOW_INVALID",
            None,
        ),
        (
            {
                START: {"type": "BEFORE_OCCURRENCE", "occurrence_booking_start_offset": 60},
                END: {"type": "BEFORE_OCCURRENCE", "occurrence_booking_end_offset": 120},
            },
            422,
            "BOOKING_WINDOW_INVALID",
            None,
        ),
        (
            {"booking_start": "2031-02-01T00:00:00Z", "registration_end": "2031-02-01T00:00:00Z"},
            422,
            "BOOKING_WINDOW_INVALID",
            None,
        ),
    ],
)
def test_bad_windows_are_refused_with_a_code(
    component_stack: Stack,
    body: dict[str, Any],
    status: int,
    code: str,
    error_type: str | None,
) -> None:
    stack = component_stack
    key = stack.key()
    created = stack.client.post(
        "/v1/events", json={"name": "W", "type": "TRAINING", **body}, headers=stack.auth(key)
    )
    assert created.status_code == status, created.text
    error = created.json()["error"]
    assert error["code"] == code
    if error_type is not None:
        assert error_type in [e["type"] for e in error["details"]["errors"]]
    # The same body on PATCH of a draft is refused the same way
    create_event(stack, key, ref="draft")
    patched = stack.client.patch("/v1/events/draft", json=body, headers=stack.auth(key))
    assert patched.status_code == status, patched.text
    assert patched.json()["error"]["code"] == code


def test_a_patch_that_closes_before_it_opens_is_refused(component_stack: Stack) -> None:
    stack = component_stack
    key = stack.key()
    create_event(
        stack, key, ref="d", booking_starts_on={"type": "ON_DATE", "utc": "2031-02-01T00:00:00Z"}
    )
    response = stack.client.patch(
        "/v1/events/d",
        json={"booking_ends_on": {"type": "ON_DATE", "utc": "2031-01-01T00:00:00Z"}},
        headers=stack.auth(key),
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "BOOKING_WINDOW_INVALID"
    # and nothing of it was stored
    shown = stack.client.get("/v1/events/d", headers=stack.auth(key)).json()
    assert shown["booking_ends_on"]["type"] == "CONTINUE_UNTIL_EVENT_ENDS"


def _register_offered(stack: Stack, token: str, since: str) -> dict[str, bool]:
    response = stack.client.get(
        "/v1/calendar", params={"fromDate": since}, headers=stack.auth(token)
    )
    assert response.status_code == 200, response.text
    return {
        entry["id"]: "REGISTER" in [cta["action"] for cta in entry["ctas"]]
        for entry in response.json()["entries"]
    }


def test_calendar_ctas_follow_the_workers_rule(component_stack: Stack) -> None:
    stack = component_stack
    key = stack.key()
    with stack.db() as session:
        add_attendee(session, org_id(session), "zed")
    token = issue_token(stack, key, "zed")
    now = utcnow()
    # Given dates that ended, are running, close within the hour, are open, not yet open
    event = published_event(
        stack,
        key,
        ref="cal",
        booked_per_date=True,
        dates=[
            span(now - 3 * 60 * MINUTE),
            span(now - 30 * MINUTE),
            span(now + 30 * MINUTE),
            span(now + 12 * 60 * MINUTE),
            span(now + 3 * 24 * 60 * MINUTE),
        ],
        booking_starts_on={"type": "BEFORE_OCCURRENCE", "occurrence_booking_start_offset": 1440},
    )
    # (closing 60 minutes before each date is a draft-only change: set before publishing)
    dates = occurrence_ids(stack, event["id"])
    since = (now - timedelta(days=1)).isoformat()
    offered = _register_offered(stack, token, since)
    # Then REGISTER shows exactly where an enroll job succeeds
    results = {d: outcome_of(stack, key, d) for d in dates}
    assert {d: offered[d] for d in dates} == {d: results[d] == "enrolled" for d in dates}
    assert [results[d] for d in dates] == [
        "REGISTRATION_CLOSED OCCURRENCE_ENDED",
        "enrolled",
        "enrolled",
        "enrolled",
        "REGISTRATION_NOT_OPEN",
    ]


def outcome_of(stack: Stack, key: str, occurrence_id: str) -> str:
    job_id = enroll_job(stack, key, "cal", f"p-{occurrence_id[:8]}", occurrence_id=occurrence_id)
    stack.drain()
    return outcome(stack, key, job_id)
