"""Attendees as a resource (issue 15 #8), over HTTP: create, read, change,
list with a cursor, export, erase; trainers without an enrollment."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from rollcall.models import EmailMessage, Event, Job, Payment
from rollcall.models.calendar import AttendeeToken
from tests.support.enrollment import statuses
from tests.support.factories import enroll, published_event
from tests.support.stack import Stack

ADA = {
    "ref": "u-ada",
    "email": "ada@example.org",
    "name": "Ada Lovelace",
    "timezone": "Europe/London",
    "locale": "en_GB",
}


def post(stack: Stack, key: str, body: dict[str, object]) -> dict[str, object]:
    response = stack.client.post("/v1/attendees", json=body, headers=stack.auth(key))
    assert response.status_code == 201, response.text
    return dict(response.json())


def enroll_ada(stack: Stack, key: str, event: str) -> None:
    body = {"attendee": {"ref": ADA["ref"], "email": ADA["email"], "name": ADA["name"]}}
    response = stack.client.post(
        f"/v1/events/{event}/enrollments", json=body, headers=stack.auth(key)
    )
    assert response.status_code == 202, response.text


def test_create_read_change_and_list_attendees(component_stack: Stack) -> None:
    stack = component_stack
    key = stack.key()
    auth = stack.auth(key)

    # Created without enrolling; the locale is stored in its BCP 47 spelling
    made = post(stack, key, ADA)
    assert {k: made[k] for k in ADA} == ADA | {"locale": "en-GB"}
    again = stack.client.post("/v1/attendees", json=ADA, headers=auth)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "ATTENDEE_REF_TAKEN")
    assert stack.client.get("/v1/attendees/u-ada", headers=auth).json()["email"] == ADA["email"]
    assert stack.client.get(f"/v1/attendees/{made['id']}", headers=auth).json()["ref"] == "u-ada"

    # Changed: only what is sent; null clears the zone, never the email
    patched = stack.client.patch(
        "/v1/attendees/u-ada", json={"name": "Ada King", "timezone": None}, headers=auth
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["name"], patched.json()["timezone"], patched.json()["email"]) == (
        "Ada King",
        None,
        ADA["email"],
    )

    # Listed oldest first, a page at a time
    for i in range(4):
        post(stack, key, {"ref": f"u-{i}", "email": f"u{i}@example.org"})
    seen, after = [], None
    while True:
        query = "?limit=2" + (f"&after={after}" if after else "")
        page = stack.client.get("/v1/attendees" + query, headers=auth).json()
        seen += [item["ref"] for item in page["items"]]
        after = page["next_cursor"]
        if after is None:
            break
    assert seen == ["u-ada", "u-0", "u-1", "u-2", "u-3"]
    # ... another organisation sees none of them
    other = stack.key("globex")
    assert stack.client.get("/v1/attendees", headers=stack.auth(other)).json()["items"] == []
    missing = stack.client.get("/v1/attendees/u-ada", headers=stack.auth(other))
    assert missing.json()["error"]["code"] == "ATTENDEE_NOT_FOUND"


def test_a_trainer_is_added_without_enrolling(component_stack: Stack) -> None:
    stack = component_stack
    key = stack.key()
    published_event(stack, key, ref="course")
    post(stack, key, ADA)
    added = stack.client.post(
        "/v1/events/course/trainers", json={"refs": ["u-ada"]}, headers=stack.auth(key)
    )
    assert added.status_code == 200, added.text
    assert [t["ref"] for t in added.json()] == ["u-ada"]
    assert statuses(stack) == {}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (ADA | {"email": "not-an-email"}, "email"),
        (ADA | {"email": "ada@"}, "email"),
        (ADA | {"timezone": "Mars/Olympus"}, "timezone"),
        (ADA | {"timezone": "Europe/../etc/passwd"}, "timezone"),
        (ADA | {"locale": "xx-QQ"}, "locale"),
        (ADA | {"locale": "en_GB; DROP"}, "locale"),
        (ADA | {"locale": "e" * 17}, "locale"),
        (ADA | {"name": "Ada\x00"}, "name"),
        (ADA | {"ref": "r" * 201}, "ref"),
        (ADA | {"ref": ""}, "ref"),
        (ADA | {"name": "n" * 201}, "name"),
        (ADA | {"role": "admin"}, "role"),
        ({"email": "ada@example.org"}, "ref"),
    ],
)
def test_bad_attendees_are_refused_at_the_edge(
    component_stack: Stack, body: dict[str, object], field: str
) -> None:
    key = component_stack.key()
    response = component_stack.client.post(
        "/v1/attendees", json=body, headers=component_stack.auth(key)
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    # A well-formed but unknown or malformed locale has its own code (as on enroll)
    unknown_locale = field == "locale" and len(str(body["locale"])) <= 16
    assert error["code"] == ("INVALID_LOCALE" if unknown_locale else "VALIDATION_ERROR")
    assert field in json.dumps(error["details"])


def test_bad_changes_and_cursors_are_refused(component_stack: Stack) -> None:
    stack = component_stack
    key = stack.key()
    auth = stack.auth(key)
    post(stack, key, ADA)
    for body in ({"email": None}, {"locale": "??"}, {"timezone": "Nowhere"}, {"ref": "u-2"}):
        response = stack.client.patch("/v1/attendees/u-ada", json=body, headers=auth)
        code = "INVALID_LOCALE" if "locale" in body else "VALIDATION_ERROR"
        assert (response.status_code, response.json()["error"]["code"]) == (422, code), body
    for cursor in ("nope", "WyJ4Il0"):
        response = stack.client.get(f"/v1/attendees?after={cursor}", headers=auth)
        assert response.json()["error"]["code"] == "INVALID_CURSOR"
    assert stack.client.get("/v1/attendees/u-nobody/export", headers=auth).status_code == 404
    assert stack.client.post("/v1/attendees/u-nobody/erase", headers=auth).status_code == 404
    # Reading is not writing: a reader key cannot export, erase or create
    reader = stack.auth(stack.key("acme", scopes=["events:read"]))
    assert stack.client.get("/v1/attendees/u-ada", headers=reader).status_code == 200
    for method, path in (
        ("GET", "/v1/attendees/u-ada/export"),
        ("POST", "/v1/attendees/u-ada/erase"),
        ("POST", "/v1/attendees"),
    ):
        response = stack.client.request(method, path, headers=reader, json=ADA)
        assert response.json()["error"]["code"] == "INSUFFICIENT_SCOPE", path


def test_the_export_holds_everything_but_secrets(component_stack: Stack) -> None:
    # Given ada enrolled (with her confirmation mail), a trainer, with a token
    stack = component_stack
    key = stack.key()
    auth = stack.auth(key)
    post(stack, key, ADA)
    published_event(stack, key, ref="intro")
    published_event(stack, key, ref="course")
    stack.client.post("/v1/events/course/trainers", json={"refs": ["u-ada"]}, headers=auth)
    enroll_ada(stack, key, "intro")
    stack.drain()
    token = stack.client.post("/v1/attendees/u-ada/tokens", headers=auth).json()["token"]

    exported = stack.client.get("/v1/attendees/u-ada/export", headers=auth)
    assert exported.status_code == 200, exported.text
    data = exported.json()
    assert data["attendee"]["ref"] == "u-ada"
    assert [(e["event_ref"], e["status"]) for e in data["enrollments"]] == [("intro", "enrolled")]
    assert [(p["state"], p["amount"]) for p in data["payments"]] == [("manual_enrolled", "0.00")]
    assert [t["event_ref"] for t in data["trainer_of"]] == ["course"]
    assert [m["template"] for m in data["mails"]] == ["enrollment_confirmed"]
    assert len(data["tokens"]) == 1 and data["tokens"][0]["revoked_at"] is None
    # Never the token, any part of it, or its hash
    with stack.db() as session:
        token_hash = session.scalars(select(AttendeeToken.token_hash)).one()
    assert token not in exported.text and token[4:12] not in exported.text
    assert token_hash not in exported.text


def test_erase_anonymises_frees_the_seat_and_is_idempotent(component_stack: Stack) -> None:
    # Given ada holds the one seat (bob waits), trains another event, has a token,
    # and a mail to her is still queued
    stack = component_stack
    key = stack.key()
    auth = stack.auth(key)
    published_event(stack, key, ref="intro", max_subscriptions=1, waiting_list=True)
    published_event(stack, key, ref="course")
    post(stack, key, ADA)
    stack.client.post("/v1/events/course/trainers", json={"refs": ["u-ada"]}, headers=auth)
    enroll_ada(stack, key, "intro")
    enroll(stack, key, "intro", "bob")
    stack.drain()
    token = stack.client.post("/v1/attendees/u-ada/tokens", headers=auth).json()["token"]
    with stack.db() as session:
        mail = session.scalars(
            select(EmailMessage).where(EmailMessage.to_address == ADA["email"])
        ).one()
        session.add(
            EmailMessage(
                organisation_id=mail.organisation_id,
                template="enrollment_confirmed",
                to_address=ADA["email"],
                to_name=ADA["name"],
                context=mail.context,
                state="queued",
                attempts=0,
                created_at=mail.created_at,
                attendee_id=mail.attendee_id,
                event_id=mail.event_id,
            )
        )

    # When she is erased
    erased = stack.client.post("/v1/attendees/u-ada/erase", headers=auth)
    assert erased.status_code == 200, erased.text
    stack.drain()

    # Then her seat went to bob, her payment stays, the counters agree
    body = erased.json()
    assert (body["already_erased"], body["enrollments_ended"], body["promoted"]) == (
        False,
        1,
        ["bob"],
    )
    assert (body["mails_dropped"], body["tokens_revoked"]) == (1, 1)
    assert sorted(statuses(stack).values()) == ["enrolled", "removed"]
    with stack.db() as session:
        event = session.scalars(select(Event).where(Event.ref == "intro")).one()
        assert (event.enrolled_count, event.waitlisted_count) == (1, 0)
        assert len(session.scalars(select(Payment)).all()) == 2
        # ... nothing stored names her: mails, jobs
        mails = session.scalars(select(EmailMessage)).all()
        jobs = session.scalars(select(Job)).all()
        stored = json.dumps(
            [[m.to_address, m.to_name, m.context] for m in mails]
            + [[j.payload, j.result, j.errors] for j in jobs]
        )
    for trace in ("ada@example.org", "Ada Lovelace", "u-ada"):
        assert trace not in stored, trace
    # ... she got no mail about it; bob got his seat (all work drained: the
    # sink holds every mail there will be, so no fourth is waited for)
    stack.drain()
    assert sorted(m["To"].addresses[0].addr_spec for m in stack.sink.wait_for(3)) == [
        "ada@example.org",
        "bob@example.org",
        "bob@example.org",
    ]
    # ... she is gone from reads, exports, trainer lists and her calendar
    for path in ("/v1/attendees/u-ada", "/v1/attendees/u-ada/export"):
        assert stack.client.get(path, headers=auth).status_code == 404
    assert [a["ref"] for a in stack.client.get("/v1/attendees", headers=auth).json()["items"]] == [
        "bob"
    ]
    assert stack.client.get("/v1/events/course/trainers", headers=auth).json() == []
    calendar = stack.client.get(
        "/v1/calendar?fromDate=2026-01-01T00:00:00Z", headers={"Authorization": f"Bearer {token}"}
    )
    assert calendar.status_code == 401

    # When she is erased again: the same answer, nothing done twice
    again = stack.client.post("/v1/attendees/u-ada/erase", headers=auth)
    assert again.status_code == 200
    assert (again.json()["already_erased"], again.json()["erased_at"]) == (
        True,
        body["erased_at"],
    )

    # And the ref enrolled anew is a new person
    enroll_ada(stack, key, "course")
    stack.drain()
    fresh = stack.client.get("/v1/attendees/u-ada/export", headers=auth).json()
    assert [e["event_ref"] for e in fresh["enrollments"]] == ["course"]
    assert fresh["mails"][0]["template"] == "enrollment_confirmed"


def test_a_ref_of_any_script_is_created_and_located_by_id(component_stack: Stack) -> None:
    # The fuzzer found it: a ref outside Latin-1 in the Location header was a 500
    key = component_stack.key()
    made = component_stack.client.post(
        "/v1/attendees",
        json={"ref": "学生-\U000ecc53", "email": "x@example.org"},
        headers=component_stack.auth(key),
    )
    assert made.status_code == 201, made.text
    assert made.headers["Location"] == f"/v1/attendees/{made.json()['id']}"
    assert (
        component_stack.client.get(
            made.headers["Location"], headers=component_stack.auth(key)
        ).json()["ref"]
        == "学生-\U000ecc53"
    )
