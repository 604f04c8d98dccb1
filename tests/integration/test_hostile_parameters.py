"""Hostile query parameters, path parameters, headers and cursors, against every
route that takes them: real HTTP (uvicorn), PostgreSQL, Redis and a worker."""

from __future__ import annotations

import base64
import json
from typing import Any

from tests.support.calendar import issue_token
from tests.support.factories import enroll, published_event
from tests.support.hostile_cases import BIG, YEAR_1, YEAR_9999, Case, attendee, run
from tests.support.ops import sign_in
from tests.support.stack import Stack


def _garbled_cursor(moment: str, *rest: Any) -> str:
    raw = json.dumps([moment, *rest]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def test_hostile_parameters_paths_and_headers_get_a_4xx(real_stack: Stack) -> None:
    # Given an event with an enrollment, and an end-user token
    key = real_stack.key()
    published_event(real_stack, key, ref="ev", max_subscriptions=3)
    enroll(real_stack, key, "ev", "ada")
    real_stack.drain()
    token = issue_token(real_stack, key, "ada")
    auth = real_stack.auth(key)
    bad = 422, "VALIDATION_ERROR"
    nul, long = "a%00b", "x" * 5000
    cases = [
        Case(f"events {name}={value}", "GET", "/v1/events", *bad, params={name: value})
        for name in ("from", "to")
        for value in (YEAR_1, YEAR_9999, "0001-01-01T00:00:00", "2201-01-01T00:00:00Z")
    ]
    cases += [
        Case(
            "occurrences from year 1",
            "GET",
            "/v1/events/ev/occurrences",
            *bad,
            params={"from": YEAR_1},
        ),
        Case(
            "occurrences to 9999",
            "GET",
            "/v1/events/ev/occurrences",
            *bad,
            params={"to": YEAR_9999},
        ),
        Case("events limit 2**31", "GET", "/v1/events", *bad, params={"limit": str(BIG)}),
        Case("events limit 5000 digits", "GET", "/v1/events", *bad, params={"limit": "9" * 5000}),
        Case("events cursor NUL", "GET", "/v1/events", *bad, params={"cursor": "\x00"}),
        Case("events cursor huge", "GET", "/v1/events", *bad, params={"cursor": long}),
        Case(
            "events cursor garbled",
            "GET",
            "/v1/events",
            422,
            "INVALID_CURSOR",
            params={"cursor": "!!not-base64!!"},
        ),
        Case(
            "events cursor year 1",
            "GET",
            "/v1/events",
            422,
            "INVALID_CURSOR",
            params={"cursor": _garbled_cursor(YEAR_1, "00000000-0000-0000-0000-000000000000")},
        ),
        Case(
            "occurrences cursor 9999",
            "GET",
            "/v1/events/ev/occurrences",
            422,
            "INVALID_CURSOR",
            params={"cursor": _garbled_cursor(YEAR_9999, "00000000-0000-0000-0000-000000000000")},
        ),
        Case(
            "enrollments cursor seq 2**40",
            "GET",
            "/v1/events/ev/enrollments",
            422,
            "INVALID_CURSOR",
            params={
                "after": _garbled_cursor(
                    "2030-01-01T00:00:00+00:00", 2**40, "00000000-0000-0000-0000-000000000000"
                )
            },
        ),
        Case(
            "enrollments cursor year 1",
            "GET",
            "/v1/events/ev/enrollments",
            422,
            "INVALID_CURSOR",
            params={"after": _garbled_cursor(YEAR_1, 1, "00000000-0000-0000-0000-000000000000")},
        ),
        Case(
            "enrollments cursor huge",
            "GET",
            "/v1/events/ev/enrollments",
            *bad,
            params={"after": long},
        ),
        Case("emails limit 2**31", "GET", "/v1/emails", *bad, params={"limit": str(BIG)}),
        Case("event path NUL", "GET", f"/v1/events/{nul}", *bad),
        Case("offer path NUL", "GET", f"/v1/offers/{nul}", *bad),
        Case("offer events path NUL", "GET", f"/v1/offers/{nul}/events", *bad),
        Case("offers limit 2**63", "GET", "/v1/offers", *bad, params={"limit": str(2**63)}),
        Case("offers cursor NUL", "GET", "/v1/offers", *bad, params={"cursor": "\x00"}),
        Case(
            "offers cursor garbled",
            "GET",
            "/v1/offers",
            422,
            "INVALID_CURSOR",
            params={"cursor": "!!not-base64!!"},
        ),
        Case(
            "offer events limit 5000 digits",
            "GET",
            "/v1/offers/x/events",
            *bad,
            params={"limit": "9" * 5000},
        ),
        Case("event path 5000 chars", "GET", f"/v1/events/{long}", *bad),
        Case("event path invalid UTF-8", "GET", "/v1/events/%ff%fe", 404, "EVENT_NOT_FOUND"),
        Case("job path NUL", "GET", f"/v1/jobs/{nul}", *bad),
        Case("session path NUL", "GET", f"/v1/events/ev/sessions/{nul}", *bad),
        Case("remove attendee NUL", "DELETE", f"/v1/events/ev/attendees/{nul}", *bad),
        Case("cancel enrollment NUL", "POST", f"/v1/events/ev/enrollments/{nul}/cancel", *bad),
        Case("occurrence cancel NUL", "POST", f"/v1/events/ev/occurrences/{nul}/cancel", *bad),
        Case("attendee enrollments NUL", "GET", f"/v1/attendees/{nul}/enrollments", *bad),
        Case("attendee token NUL", "POST", f"/v1/attendees/{nul}/tokens", *bad),
        Case(
            "Idempotency-Key with a tab",
            "POST",
            "/v1/events/ev/enrollments",
            *bad,
            json=attendee(),
            headers={"Idempotency-Key": "a\tb"},
        ),
        Case(
            "Idempotency-Key 300 chars",
            "POST",
            "/v1/events/ev/enrollments",
            *bad,
            json=attendee(),
            headers={"Idempotency-Key": "k" * 300},
        ),
        Case(
            "X-Request-ID with a tab",
            "GET",
            "/v1/events/ev",
            200,
            None,
            headers={"X-Request-ID": "a\tb"},
        ),
    ]
    run(real_stack, auth, cases)

    calendar = [
        Case(
            f"{path} {name}={value}",
            "GET",
            path,
            422,
            "INVALID_DATE",
            params={"fromDate": "2030-01-01", name: value, "token": token},
        )
        for path in ("/v1/calendar", "/v1/calendar.ics")
        for name in ("fromDate", "toDate")
        for value in (YEAR_1, YEAR_9999, "0001-01-01", "9999-12-31", "2201-01-01T00:00:00Z")
    ]
    calendar += [
        Case(
            "calendar cursor garbled",
            "GET",
            "/v1/calendar",
            422,
            "INVALID_CURSOR",
            params={"fromDate": "2030-01-01", "first": "5", "after": "c1.!!.!!"},
        ),
        Case(
            "calendar cursor huge",
            "GET",
            "/v1/calendar",
            422,
            "INVALID_CURSOR",
            params={"fromDate": "2030-01-01", "first": "5", "after": long},
        ),
        Case(
            "calendar page size 5000 digits",
            "GET",
            "/v1/calendar",
            422,
            "INVALID_PAGE_SIZE",
            params={"fromDate": "2030-01-01", "first": "9" * 5000},
        ),
        Case(
            "calendar type NUL",
            "GET",
            "/v1/calendar",
            422,
            "INVALID_EVENT_TYPE",
            params={"fromDate": "2030-01-01", "type": "\x00"},
        ),
        Case("bookmark entry NUL", "POST", f"/v1/calendar/bookmarks/{nul}", *bad),
    ]
    run(real_stack, real_stack.auth(token), calendar)

    # And the dashboard's filters, which reach SQL too
    ops = sign_in(real_stack, real_stack.key(org="acme", scopes=["ops"]))
    dashboard = [
        Case(f"/ops/jobs {name} NUL", "GET", "/ops/jobs", *bad, params={name: "\x00"})
        for name in ("type", "status", "event")
    ]
    dashboard += [
        Case("/ops/jobs day 9999-12-31", "GET", "/ops/jobs", 200, params={"day": "9999-12-31"}),
        Case("/ops/mail state NUL", "GET", "/ops/mail", *bad, params={"state": "\x00"}),
        Case("/ops/jobs/{id} NUL", "GET", f"/ops/jobs/{nul}", *bad),
    ]
    run(real_stack, ops, dashboard)
    # And a dashboard cookie with bytes beyond ASCII, which the signature check met
    for cookie in ("rollcall_ops=abc.d\xe9f", "rollcall_ops=\xe9.\xe9"):
        headers = {"Cookie": cookie.encode("latin-1"), "X-Ops-Refresh": "1"}
        response = real_stack.client.get("/ops", headers=headers)
        assert response.status_code == 401, (cookie, response.status_code, response.text)
