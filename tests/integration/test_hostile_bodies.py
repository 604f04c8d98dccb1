"""Hostile bodies that gave 500s and poison jobs, against every route with a body:
real HTTP (uvicorn), PostgreSQL, Redis and a worker.

Each table row is one request and the answer it must get: never a 5xx, every
4xx in the documented body with its code. A bulk job's bad rows become row
errors, and the good rows of the same job are applied; values at the edges are
accepted, and their jobs succeed.
"""

from __future__ import annotations

import uuid

from tests.support.factories import job, published_event
from tests.support.hostile_cases import (
    BIG,
    CRLF,
    LONG_ZONE,
    NUL,
    SURROGATE_JSON,
    WEEKLY,
    YEAR_1,
    YEAR_9999,
    Case,
    attendee,
    event,
    raw,
    run,
)
from tests.support.stack import Stack


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
            ("offer_ref", NUL),
            ("offer_id", NUL),
            ("access_trainings", [NUL]),
            ("access_courses", [BIG]),
            ("access_videos", [str(uuid.UUID(int=n)) for n in range(10_000)]),
            ("access_scorms", "x" * 10_000),
            ("certificate_id", CRLF),
            ("score_threshold", 2**63),
            ("score_threshold", 10**400),
            ("min_subscriptions", 2**63),
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
        Case("patch access NUL", "PATCH", base, *bad, json={"access_external_contents": [NUL]}),
        Case("patch score 2**63", "PATCH", base, *bad, json={"score_threshold": 2**63}),
        Case("patch offer ref NUL", "PATCH", base, *bad, json={"offer_ref": NUL}),
        Case(
            "score NaN",
            "POST",
            "/v1/events",
            *bad,
            **raw(b'{"name": "x", "type": "TRAINING", "score_threshold": NaN}'),
        ),
        Case(
            "score 1e400",
            "POST",
            "/v1/events",
            *bad,
            **raw(b'{"name": "x", "type": "TRAINING", "score_threshold": 1e400}'),
        ),
        Case("offer title NUL", "POST", "/v1/offers", *bad, json={"title": NUL}),
        Case("offer title CR/LF", "POST", "/v1/offers", *bad, json={"title": CRLF}),
        Case("offer ref NUL", "POST", "/v1/offers", *bad, json={"title": "O", "ref": NUL}),
        Case(
            "offer description 10k",
            "POST",
            "/v1/offers",
            *bad,
            json={"title": "O", "description": "d" * 10_000},
        ),
        Case("offer title 2**63", "POST", "/v1/offers", *bad, json={"title": 2**63}),
        Case("offer patch NUL", "PATCH", "/v1/offers/of", *bad, json={"title": NUL}),
        Case("offer patch 10k ref", "PATCH", "/v1/offers/of", *bad, json={"ref": "r" * 10_000}),
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
    offer = real_stack.client.post("/v1/offers", json={"title": "O", "ref": "of"}, headers=auth)
    assert offer.status_code == 201, offer.text
    occurrence = real_stack.client.get("/v1/events/ev/occurrences", headers=auth)
    session = real_stack.client.post("/v1/events/ev/sessions", json={"name": "S"}, headers=auth)

    # When every hostile body is sent, Then each is refused with the documented body
    run(
        real_stack,
        auth,
        body_cases(target["id"], session.json()["id"], occurrence.json()["items"][0]["id"]),
    )


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
        "locale": "ca-ES-VALENCIA",  # the longest locale Babel knows (Text(16) bounds any)
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
