"""The hostile inputs that gave 500s and poison jobs, against every route that
takes them: real HTTP (uvicorn), PostgreSQL, Redis and a worker.

Each table row is one request and the answer it must get: never a 5xx, every
4xx in the documented body with its code. A bulk job's bad rows become row
errors, and the good rows of the same job are applied.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.support.calendar import issue_token
from tests.support.factories import enroll, job, published_event
from tests.support.hostile_stack import assert_clean_answer
from tests.support.ops import sign_in
from tests.support.stack import Stack

NUL = "a\x00b"
CRLF = "Ada\r\nBcc: all@example.org"
SURROGATE_JSON = b'"\\ud800"'
BIG = 2**31
LONG_ZONE = "Europe/" + "A" * 10_000
YEAR_1 = "0001-01-01T00:00:00+01:00"
YEAR_9999 = "9999-12-31T23:59:59-01:00"
WEEKLY = {"type": "weekly", "starts_on": "2031-01-06T09:00:00", "weekdays": ["MO"]}


@dataclass
class Case:
    """One hostile request and the answer it must get."""

    name: str
    method: str
    path: str
    status: int
    code: str | None = None
    json: Any = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] | None = None


def event(**fields: Any) -> dict[str, Any]:
    return {"name": "Hostile", "type": "TRAINING"} | fields


def attendee(**fields: Any) -> dict[str, Any]:
    return {"attendee": {"ref": "u1", "email": "u1@example.org"} | fields}


def raw(body: bytes) -> dict[str, Any]:
    return {"content": body, "headers": {"Content-Type": "application/json"}}


def run(stack: Stack, auth: dict[str, str], cases: list[Case]) -> None:
    """Send every case; report every wrong answer at once."""
    wrong: list[str] = []
    for case in cases:
        try:
            response = stack.client.request(
                case.method,
                case.path,
                json=case.json,
                content=case.content,
                params=case.params,
                headers=auth | case.headers,
            )
        except httpx.TransportError as exc:  # the server dropped the connection
            wrong.append(f"{case.name}: {exc!r}")
            continue
        try:
            assert_clean_answer(response, case.name)
        except AssertionError as exc:
            wrong.append(f"{case.name}: {exc}")
            continue
        code = response.json()["error"]["code"] if response.status_code >= 400 else None
        if (response.status_code, code) != (case.status, case.code):
            wrong.append(
                f"{case.name}: {response.status_code} {code}, want {case.status} {case.code}: "
                f"{response.text[:300]}"
            )
    assert not wrong, "\n".join(wrong)


def body_cases(event_id: str, session_id: str, occurrence_id: str) -> list[Case]:
    """Bodies: every route with a body, every kind of field."""
    bad = 422, "VALIDATION_ERROR"
    base = f"/v1/events/{event_id}"
    cases = [
        Case(f"event {name}", "POST", "/v1/events", *bad, json=event(**{name: value}))
        for name, value in [
            ("name", NUL),
            ("name", CRLF),
            ("ref", NUL),
            ("description", NUL),
            ("timezone", NUL),
            ("timezone", LONG_ZONE),
            ("timezone", "../../../../etc/passwd"),
            ("max_subscriptions", BIG),
            ("min_subscriptions", BIG),
            ("max_per_attendee", BIG),
            ("max_subscriptions", 10**40),
            ("reminder_before_minutes", BIG),
            ("registration_end", YEAR_1),
            ("booking_start", YEAR_9999),
            ("registration_end", "2201-01-01T00:00:00Z"),
            ("registration_end", "1969-12-31T23:59:59Z"),
        ]
    ]
    cases += [
        Case(
            "event starts in year 1",
            "POST",
            "/v1/events",
            *bad,
            json=event(starts_at=YEAR_1, ends_at="2030-01-01T00:00:00Z"),
        ),
        Case(
            "event ends in 9999",
            "POST",
            "/v1/events",
            *bad,
            json=event(starts_at="2030-01-01T00:00:00Z", ends_at=YEAR_9999),
        ),
        Case(
            "event dates in 9999",
            "POST",
            "/v1/events",
            *bad,
            json=event(dates=[{"starts_at": "2030-01-01T00:00:00Z", "ends_at": YEAR_9999}]),
        ),
        Case(
            "recurrence from year 1",
            "POST",
            "/v1/events",
            *bad,
            json=event(recurrence=WEEKLY | {"starts_on": "0001-01-01T00:00:00"}),
        ),
        Case(
            "recurrence until 9999",
            "POST",
            "/v1/events",
            *bad,
            json=event(recurrence=WEEKLY | {"ends": {"type": "on", "date": "9999-12-31"}}),
        ),
        Case(
            "recurrence exclusion in year 1",
            "POST",
            "/v1/events",
            *bad,
            json=event(recurrence=WEEKLY | {"exclusions": ["0001-01-01"]}),
        ),
        Case(
            "recurrence interval 2**31",
            "POST",
            "/v1/events",
            *bad,
            json=event(recurrence=WEEKLY | {"interval": BIG}),
        ),
        Case("trainer ref NUL", "POST", "/v1/events", *bad, json=event(trainers={"refs": [NUL]})),
        Case(
            "lone surrogate",
            "POST",
            "/v1/events",
            *bad,
            **raw(b'{"name": ' + SURROGATE_JSON + b', "type": "TRAINING"}'),
        ),
        Case(
            "invalid UTF-8",
            "POST",
            "/v1/events",
            *bad,
            **raw(b'{"name": "caf\xe9", "type": "TRAINING"}'),
        ),
        Case(
            "5000-digit number",
            "POST",
            "/v1/events",
            *bad,
            **raw(b'{"name": "x", "type": "TRAINING", "max_subscriptions": 1' + b"0" * 5000 + b"}"),
        ),
        Case(
            "nested 10,000 deep", "POST", "/v1/events", *bad, **raw(b"[" * 10_000 + b"]" * 10_000)
        ),
        Case(
            "NaN",
            "POST",
            "/v1/events",
            *bad,
            **raw(b'{"name": "x", "type": "TRAINING", "max_subscriptions": NaN}'),
        ),
        Case(
            "2 MiB body",
            "POST",
            "/v1/events",
            413,
            "PAYLOAD_TOO_LARGE",
            **raw(b'{"name": "' + b"x" * 2 * 1024 * 1024 + b'", "type": "TRAINING"}'),
        ),
        Case("patch name NUL", "PATCH", base, *bad, json={"name": NUL}),
        Case("patch capacity 2**31", "PATCH", base, *bad, json={"max_subscriptions": BIG}),
        Case("patch closing year 1", "PATCH", base, *bad, json={"registration_end": YEAR_1}),
        Case("patch zone 10k", "PATCH", base, *bad, json={"timezone": LONG_ZONE}),
        Case("copy ref NUL", "POST", f"{base}/copy", *bad, json={"ref": NUL}),
        Case("copy name CR/LF", "POST", f"{base}/copy", *bad, json={"name": CRLF}),
        Case("session name NUL", "POST", f"{base}/sessions", *bad, json={"name": NUL}),
        Case(
            "session capacity 2**31",
            "POST",
            f"{base}/sessions",
            *bad,
            json={"name": "S", "capacity": BIG},
        ),
        Case(
            "session patch 2**31",
            "PATCH",
            f"{base}/sessions/{session_id}",
            *bad,
            json={"capacity": BIG},
        ),
        Case("trainers NUL", "POST", f"{base}/trainers", *bad, json={"refs": [NUL]}),
        Case("trainers remove NUL", "POST", f"{base}/trainers/remove", *bad, json={"refs": [NUL]}),
        Case("cancel reason NUL", "POST", f"{base}/cancel", *bad, json={"reason": NUL}),
        Case(
            "occurrence cancel reason NUL",
            "POST",
            f"{base}/occurrences/{occurrence_id}/cancel",
            *bad,
            json={"reason": NUL},
        ),
        Case(
            "reminder occurrence NUL",
            "POST",
            f"{base}/reminders",
            *bad,
            json={"occurrence_id": NUL},
        ),
    ]
    cases += [
        Case(f"enroll {name}", "POST", f"{base}/enrollments", *bad, json=attendee(**{name: value}))
        for name, value in [
            ("ref", NUL),
            ("ref", "x" * 201),
            ("name", NUL),
            ("name", CRLF),
            ("email", "u1@example.org\r\nBcc: all@example.org"),
            ("timezone", LONG_ZONE),
            ("timezone", NUL),
            ("locale", NUL),
        ]
    ]
    cases += [
        Case(
            "bulk nested deep",
            "POST",
            f"{base}/enrollments/bulk",
            *bad,
            **raw(b'{"attendees": [' + b"[" * 10_000 + b"]" * 10_000 + b"]}"),
        ),
        Case(
            "bulk 5000-digit number",
            "POST",
            f"{base}/enrollments/bulk",
            *bad,
            **raw(b'{"attendees": [{"ref": 1' + b"0" * 5000 + b"}]}"),
        ),
        Case(
            "bulk invalid UTF-8",
            "POST",
            f"{base}/enrollments/bulk",
            *bad,
            **raw(b'{"attendees": [{"ref": "\xff", "email": "a@example.org"}]}'),
        ),
        Case(
            "bulk CSV not UTF-8",
            "POST",
            f"{base}/enrollments/bulk",
            *bad,
            content=b"ref,email,name\nu1,u1@example.org,Andr\xe9\n",
            headers={"Content-Type": "text/csv"},
        ),
    ]
    return cases


def test_hostile_bodies_get_a_422_on_every_route(real_stack: Stack) -> None:
    # Given a published event with dates and a session
    key = real_stack.key()
    target = published_event(
        real_stack,
        key,
        ref="ev",
        booked_per_date=True,
        waiting_list=True,
        dates=[{"starts_at": "2031-03-01T09:00:00Z", "ends_at": "2031-03-01T12:00:00Z"}],
    )
    auth = real_stack.auth(key)
    occurrence = real_stack.client.get("/v1/events/ev/occurrences", headers=auth)
    session = real_stack.client.post("/v1/events/ev/sessions", json={"name": "S"}, headers=auth)

    # When every hostile body is sent, Then each is refused with the documented body
    run(
        real_stack,
        auth,
        body_cases(target["id"], session.json()["id"], occurrence.json()["items"][0]["id"]),
    )


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


def test_bad_rows_of_a_bulk_are_row_errors_and_the_rest_is_applied(real_stack: Stack) -> None:
    # Given a published event
    key = real_stack.key()
    published_event(real_stack, key, ref="ev", max_subscriptions=50)
    auth = real_stack.auth(key)

    # When a JSON bulk mixes good rows with a NUL ref, a CR/LF name, a 10k time zone
    rows = [
        {"ref": "good-1", "email": "g1@example.org"},
        {"ref": NUL, "email": "nul@example.org"},
        {"ref": "crlf", "email": "crlf@example.org", "name": CRLF},
        {"ref": "zone", "email": "zone@example.org", "timezone": LONG_ZONE},
        {"ref": "deep", "email": "deep@example.org", "name": {"a": [[[1]]]}},
        {"ref": "good-2", "email": "g2@example.org", "name": "Ada Lovelace"},
    ]
    posted = real_stack.client.post(
        "/v1/events/ev/enrollments/bulk", json={"atomic": False, "attendees": rows}, headers=auth
    )
    # And a CSV has a cell over the csv module's limit and a NUL in a ref
    csv = (
        b"ref,email,name\r\n"
        b"c-good,c1@example.org,Grace\r\n"
        b"c-long,c2@example.org," + b"y" * 140_000 + b"\r\n"
        b"c\x00nul,c3@example.org,\r\n"
        b"c-good-2,c4@example.org,Hopper\r\n"
    )
    uploaded = real_stack.client.post(
        "/v1/events/ev/enrollments/bulk?atomic=false",
        content=csv,
        headers=auth | {"Content-Type": "text/csv"},
    )
    assert (posted.status_code, uploaded.status_code) == (202, 202), (posted.text, uploaded.text)
    real_stack.drain()

    # Then each job applied its good rows and named each bad row, once, with its code
    first = job(real_stack, key, posted.json()["id"])
    assert first["status"] == "partially_succeeded", first
    assert [(e["row"], e["code"]) for e in first["errors"]] == [
        (2, "VALIDATION_ERROR"),
        (3, "VALIDATION_ERROR"),
        (4, "VALIDATION_ERROR"),
        (5, "VALIDATION_ERROR"),
    ]
    assert first["errors"][0]["attendee_ref"] == "a\\x00b"
    second = job(real_stack, key, uploaded.json()["id"])
    assert second["status"] == "partially_succeeded", second
    assert [(e["row"], e["code"]) for e in second["errors"]] == [
        (2, "VALIDATION_ERROR"),
        (3, "VALIDATION_ERROR"),
    ]
    assert "field larger than field limit" in second["errors"][0]["message"]
    listed = real_stack.client.get("/v1/events/ev/enrollments", headers=auth).json()["items"]
    assert sorted(item["attendee_ref"] for item in listed) == [
        "c-good",
        "c-good-2",
        "good-1",
        "good-2",
    ]


def test_values_at_the_edges_are_accepted_and_their_jobs_succeed(real_stack: Stack) -> None:
    # Given the largest counts and the window's first and last moments
    key = real_stack.key()
    auth = real_stack.auth(key)
    created = real_stack.client.post(
        "/v1/events",
        json=event(
            ref="r" * 200,
            name="N" * 75,
            description="Line one\r\nLine two\twith a tab",
            max_subscriptions=2**31 - 1,
            max_per_attendee=2**31 - 1,
            reminder_before_minutes=60 * 24 * 60,
            dates=[
                {"starts_at": "1970-01-01T00:00:00Z", "ends_at": "1970-01-01T01:00:00Z"},
                {"starts_at": "2200-12-31T22:00:00Z", "ends_at": "2200-12-31T23:59:59.999999Z"},
            ],
        ),
        headers=auth,
    )
    assert created.status_code == 201, created.text
    event_id = created.json()["id"]
    assert real_stack.client.post(f"/v1/events/{event_id}/publish", headers=auth).status_code == 200
    listed = real_stack.client.get(
        "/v1/events",
        params={"from": "1970-01-01T00:00:00Z", "to": "2200-12-31T23:59:59Z"},
        headers=auth,
    )
    assert [item["id"] for item in listed.json()["items"]] == [event_id], listed.text

    # When an attendee with the longest ref, name and locale, and a non-Latin name, enrolls
    person = {
        "ref": "p" * 200,
        "email": "edge@example.org",
        "name": "Łukasz Ñandú 李" + "x" * 186,
        "timezone": "America/Argentina/ComodRivadavia",
        "locale": "l" * 16,
    }
    response = real_stack.client.post(
        f"/v1/events/{event_id}/enrollments",
        json={"attendee": person},
        headers=auth | {"Idempotency-Key": "k" * 200},
    )
    assert response.status_code == 202, response.text
    real_stack.drain()

    # Then the job succeeded
    done = job(real_stack, key, response.json()["id"])
    assert done["status"] == "succeeded", done
    shown = real_stack.client.get(f"/v1/events/{event_id}", headers=auth)
    assert shown.json()["enrolled_count"] == 1
