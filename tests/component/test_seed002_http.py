"""Seed 002's REST dialect over HTTP on SQLite: its request examples succeed, its
replies have its shape (a JSON Schema written from the seed), its times are
``{utc, local}``, other organisations are not found, bad input is a clear 4xx."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from tests.support.event_helpers import call
from tests.support.seed002 import (
    ERROR_REPLY,
    EVENT_REPLY,
    EVENTS_REPLY,
    LOCAL_START,
    SENTENCE_REPLY,
    SESSION_REPLY,
    UTC_START,
    YEAR,
    create_example,
    org_of,
)
from tests.support.stack import Stack


def create(stack: Stack, key: str, body: dict[str, Any] | None = None) -> Any:
    org = org_of(stack, key)
    response = call(stack, key, "POST", f"/orgs/{org}/events", json=body or create_example())
    assert response.status_code == 201, response.text
    reply = response.json()
    jsonschema.validate(reply, EVENT_REPLY)
    assert reply["statusCode"] == "201"
    return reply["result"]["event"]


def test_the_seed_create_example_succeeds_and_shows_utc_and_local(component_stack: Stack) -> None:
    key = component_stack.key()
    event = create(component_stack, key)
    assert event["timezone"] == "Australia/Sydney"
    (occurrence,) = event["event_occurrence"]
    # The seed's duplicate example: 13:00 UTC is 00:00 the next day in Sydney (AEDT)
    assert occurrence["start_on"] == {"utc": UTC_START, "local": LOCAL_START}
    assert occurrence["end_on"] == {"utc": f"{YEAR}-01-23 15:00", "local": f"{YEAR}-01-24 02:00"}
    assert event["occurrence"]["type"] == "DOES_NOT_REPEAT"
    assert event["configuration"]["attributes"][0]["value"]["name"] == "Circular Quay"
    assert event["listing"] == {"enabled": True, "categories": []}
    assert event["banner"][0]["primary"] is True


@pytest.mark.parametrize("kind", ["daily", "Weekly", "DOES_NOT_REPEAT"])
def test_occurrence_types_in_any_case(component_stack: Stack, kind: str) -> None:
    key = component_stack.key()
    occurrence = {
        "type": kind,
        "attributes": {
            "starts_on": f"{YEAR}-01-10 09:00",
            "event_duration": "1.5",
            "occurrence_ends": {"type": "after", "value": 3},
        },
    }
    event = create(component_stack, key, create_example(occurrence=occurrence))
    assert event["occurrence"]["type"] == kind.upper()
    assert event["occurrence"]["attributes"]["event_duration"] == "1.5"
    assert len(event["event_occurrence"]) == (1 if kind == "DOES_NOT_REPEAT" else 3)


def test_settings_and_online_configuration(component_stack: Stack) -> None:
    key = component_stack.key()
    body = create_example(
        configuration={
            "type": "ONLINE",
            "attributes": [{"name": "ONLINE", "value": {"url": "https://meet.example.org/x"}}],
        },
        settings={
            "event_capacity": 40,
            "max_ticket_per_customer": 2,
            "waiting_list": {"enabled": True},
            "reminder_email_before_event": {"enabled": True, "reminder_email_time": 60},
            "reminder_email_after_event": {"enabled": False},
            "booking_starts_on": {"type": "IMMEDIATE"},
            "sessions": {"enabled": False},
        },
    )
    settings = create(component_stack, key, body)["settings"]
    assert settings["event_capacity"] == 40
    assert settings["max_ticket_per_customer"] == 2
    assert settings["waiting_list"] == {"enabled": True}
    assert settings["reminder_email_before_event"]["reminder_email_time"] == 60
    assert settings["reminder_email_after_event"]["enabled"] is False


def test_the_list_pages_with_v1s_cursor(component_stack: Stack) -> None:
    key = component_stack.key()
    org = org_of(component_stack, key)
    made = [create(component_stack, key)["uuid"] for _ in range(3)]

    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = call(component_stack, key, "GET", f"/orgs/{org}/events", params=params)
        assert page.status_code == 200, page.text
        jsonschema.validate(page.json(), EVENTS_REPLY)
        result = page.json()["result"]
        assert len(result["events"]) <= 2
        seen += [e["uuid"] for e in result["events"]]
        pages += 1
        cursor = result["next_cursor"]
        if cursor is None:
            break
    assert (seen, pages) == (made, 2)

    too_big = call(component_stack, key, "GET", f"/orgs/{org}/events", params={"limit": 201})
    assert too_big.status_code == 422, too_big.text
    assert too_big.json()["statusCode"] == 422


def test_every_route_answers_the_seed_shape(component_stack: Stack) -> None:
    key = component_stack.key()
    org = org_of(component_stack, key)
    event = create(component_stack, key)
    uuid = event["uuid"]

    shown = call(component_stack, key, "GET", f"/events/{uuid}").json()
    jsonschema.validate(shown, EVENT_REPLY)
    listed = call(component_stack, key, "GET", f"/orgs/{org}/events").json()
    jsonschema.validate(listed, EVENTS_REPLY)
    assert [e["uuid"] for e in listed["result"]["events"]] == [uuid]

    copy = call(component_stack, key, "POST", f"/events/{uuid}/duplicate")
    assert copy.status_code == 201, copy.text
    jsonschema.validate(copy.json(), EVENT_REPLY)
    copied = copy.json()["result"]["event"]
    assert copied["uuid"] != uuid
    assert copied["event_occurrence"][0]["start_on"]["local"] == LOCAL_START

    for action, status, sentence in [
        ("publish", 201, "Event has been published successfully"),
        ("unpublish", 201, "Event has been unpublished successfully"),
        ("publish", 201, "Event has been published successfully"),
        ("cancel", 200, "Event has been cancelled successfully."),
    ]:
        response = call(component_stack, key, "POST", f"/events/{uuid}/{action}")
        assert response.status_code == status, response.text
        jsonschema.validate(response.json(), SENTENCE_REPLY)
        assert response.json() == {"statusCode": status, "result": sentence}
    assert (
        call(component_stack, key, "GET", f"/events/{uuid}").json()["result"]["event"]["status"]
        == "CANCELLED"
    )


def test_seed_scope_names_are_accepted(component_stack: Stack) -> None:
    creator = component_stack.key(scopes=["event.create"])
    event = create(component_stack, creator)
    publisher = component_stack.key(scopes=["event.publish"])
    response = call(component_stack, publisher, "POST", f"/events/{event['uuid']}/publish")
    assert response.status_code == 201, response.text
    denied = call(component_stack, publisher, "POST", f"/events/{event['uuid']}/cancel")
    assert denied.status_code == 403, denied.text
    jsonschema.validate(denied.json(), ERROR_REPLY)


def test_another_organisation_is_not_found(component_stack: Stack) -> None:
    mine = component_stack.key(org="acme")
    theirs = component_stack.key(org="globex")
    event = create(component_stack, mine)
    their_org = org_of(component_stack, theirs)

    for method, path in [
        ("POST", f"/orgs/{their_org}/events"),
        ("GET", f"/orgs/{their_org}/events"),
    ]:
        response = call(component_stack, mine, method, path, json=create_example())
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "ORGANISATION_NOT_FOUND"
        jsonschema.validate(response.json(), ERROR_REPLY)
    for action in ["", "/duplicate", "/publish", "/unpublish", "/cancel"]:
        method = "GET" if action == "" else "POST"
        response = call(component_stack, theirs, method, f"/events/{event['uuid']}{action}")
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "EVENT_NOT_FOUND"
    listed = call(component_stack, theirs, "GET", f"/orgs/{their_org}/events").json()
    assert listed["result"]["events"] == []


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"coupons": [{"code": "X"}]}, "UNSUPPORTED_FIELDS"),
        ({"tax": [{"name": "GST", "value": "10"}], "fees": {"a": 1}}, "UNSUPPORTED_FIELDS"),
        ({"name": "a\x00b"}, "VALIDATION_ERROR"),
        ({"name": "x" * 76}, "VALIDATION_ERROR"),
        ({"timezone": "Mars/Olympus"}, "VALIDATION_ERROR"),
        ({"surprise": 1}, "VALIDATION_ERROR"),
        ({"settings": {"event_capacity": 2**63}}, "VALIDATION_ERROR"),
        (
            {
                "occurrence": {
                    "type": "does_not_repeat",
                    "attributes": {"starts_on": "0001-01-01 00:00", "event_duration": "1"},
                }
            },
            "VALIDATION_ERROR",
        ),
        (
            {
                "occurrence": {
                    "type": "fortnightly",
                    "attributes": {"starts_on": f"{YEAR}-01-01 00:00", "event_duration": "1"},
                }
            },
            "VALIDATION_ERROR",
        ),
        (
            {
                "occurrence": {
                    "type": "daily",
                    "attributes": {"starts_on": f"{YEAR}-01-01 00:00", "event_duration": "0.1"},
                }
            },
            "VALIDATION_ERROR",
        ),
        ({"configuration": {"type": "MOON", "attributes": [{"value": {}}]}}, "VALIDATION_ERROR"),
    ],
)
def test_hostile_input_is_a_clear_4xx(
    component_stack: Stack, overrides: dict[str, Any], code: str
) -> None:
    key = component_stack.key()
    org = org_of(component_stack, key)
    response = call(
        component_stack, key, "POST", f"/orgs/{org}/events", json=create_example(**overrides)
    )
    assert 400 <= response.status_code < 500, response.text
    body = response.json()
    jsonschema.validate(body, ERROR_REPLY)
    assert body["error"]["code"] == code, body
    assert body["statusCode"] == response.status_code


def test_unsupported_fields_are_listed_and_empty_ones_accepted(component_stack: Stack) -> None:
    key = component_stack.key()
    org = org_of(component_stack, key)
    body = create_example(coupons=[{"code": "X"}], refunds={"policy": "none"}, tax=[])
    response = call(component_stack, key, "POST", f"/orgs/{org}/events", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"]["fields"] == ["coupons", "refunds"]
    create(component_stack, key, create_example(coupons=[], fees={}, refunds=None, tax=[]))


def test_a_malformed_uuid_is_a_clear_4xx(component_stack: Stack) -> None:
    key = component_stack.key()
    response = call(component_stack, key, "GET", "/events/not-a-uuid")
    assert response.status_code == 422, response.text
    jsonschema.validate(response.json(), ERROR_REPLY)


def _weekly(stack: Stack, key: str) -> dict[str, Any]:
    """A weekly event in Sydney, three Mondays from the next 24 January's week."""
    body = create_example()
    body["event"]["occurrence"] = {
        "type": "WEEKLY",
        "attributes": {
            "starts_on": LOCAL_START,
            "event_duration": "2",
            "occurrence_ends": {"type": "after", "value": 3},
        },
    }
    return dict(create(stack, key, body))


def add_session(stack: Stack, key: str, event: dict[str, Any], **session: Any) -> Any:
    body = {
        "sessions": {
            "name": "Managers",
            "sell_session": True,
            "status": "ACTIVE",
            "session_starts_on": LOCAL_START,
            "duration": 20,
            "occurrences": {"type": "ALL"},
            "tickets": {"type": "ALL", "uuid": []},
        }
        | session
    }
    return call(stack, key, "POST", f"/events/{event['uuid']}/sessions", json=body)


def test_a_session_is_added_as_the_seed_shows_it(component_stack: Stack) -> None:
    # Given an event (the seed's example) and a key with the seed's own scope
    event = create(component_stack, component_stack.key())
    adder = component_stack.key(scopes=["event.add_session"])

    # When the seed's session body (placeholders filled) is posted
    response = add_session(component_stack, adder, event)

    # Then 201 with the seed's shape: local midnight in Sydney, 20 minutes long
    assert response.status_code == 201, response.text
    reply = response.json()
    jsonschema.validate(reply, SESSION_REPLY)
    session = reply["result"]["session"]["session"]
    assert session["name"] == "Managers" and session["status"] == "ACTIVE"
    assert session["session_starts_on"] == {"utc": UTC_START, "local": LOCAL_START}
    assert session["session_ends_on"] == {
        "utc": f"{YEAR}-01-23 13:20",
        "local": f"{YEAR}-01-24 00:20",
    }
    assert session["occurrences"] == {"type": "ALL", "uuid": []}
    # And /v1 shows the same session: one store, two dialects
    listed = call(component_stack, adder, "GET", f"/v1/events/{event['uuid']}/sessions")
    assert listed.status_code == 403  # event.add_session does not read
    shown = call(
        component_stack, component_stack.key(), "GET", f"/v1/events/{event['uuid']}/sessions"
    )
    assert [(s["id"], s["starts_at"], s["duration_minutes"]) for s in shown.json()] == [
        (session["uuid"], "00:00", 20)
    ]


def test_a_session_on_specific_dates(component_stack: Stack) -> None:
    key = component_stack.key()
    event = _weekly(component_stack, key)
    second = event["event_occurrence"][1]
    occurrences = call(component_stack, key, "GET", f"/v1/events/{event['uuid']}/occurrences")
    ids = [o["id"] for o in occurrences.json()["items"]]

    # A session on the second date only, starting at 10:00 local on that date
    response = add_session(
        component_stack,
        key,
        event,
        occurrences={"type": "specific", "uuid": [ids[1]]},
        session_starts_on=second["start_on"]["local"][:10] + " 10:00",
    )
    assert response.status_code == 201, response.text
    session = response.json()["result"]["session"]["session"]
    assert session["occurrences"] == {"type": "SPECIFIC", "uuid": [ids[1]]}
    assert session["session_starts_on"]["local"] == second["start_on"]["local"][:10] + " 10:00"

    # A start date that is none of the session's dates is refused, and nothing is stored
    wrong = add_session(
        component_stack,
        key,
        event,
        occurrences={"type": "SPECIFIC", "uuid": [ids[1]]},
        session_starts_on=LOCAL_START,
    )
    assert wrong.status_code == 422, wrong.text
    jsonschema.validate(wrong.json(), ERROR_REPLY)
    assert wrong.json()["error"]["code"] == "VALIDATION_ERROR"
    shown = call(component_stack, key, "GET", f"/v1/events/{event['uuid']}/sessions").json()
    assert len(shown) == 1


@pytest.mark.parametrize(
    ("session", "status", "code"),
    [
        ({"description": "For managers"}, 422, "UNSUPPORTED_FIELDS"),
        ({"tickets": {"type": "ALL", "uuid": ["t-1"]}}, 422, "UNSUPPORTED_FIELDS"),
        ({"sell_session": False}, 422, "UNSUPPORTED_FIELDS"),
        ({"status": "PAUSED"}, 422, "VALIDATION_ERROR"),
        ({"name": "x" * 76}, 422, "VALIDATION_ERROR"),
        ({"name": "a\x00b"}, 422, "VALIDATION_ERROR"),
        ({"duration": 2**63}, 422, "VALIDATION_ERROR"),
        ({"session_starts_on": "0001-01-01 00:00"}, 422, "VALIDATION_ERROR"),
        ({"session_starts_on": "tomorrow"}, 422, "VALIDATION_ERROR"),
        ({"occurrences": {"type": "SPECIFIC", "uuid": []}}, 422, "VALIDATION_ERROR"),
        ({"occurrences": {"type": "SPECIFIC", "uuid": ["not-a-uuid"]}}, 422, "VALIDATION_ERROR"),
    ],
)
def test_a_bad_session_is_a_clear_4xx(
    component_stack: Stack, session: dict[str, Any], status: int, code: str
) -> None:
    key = component_stack.key()
    event = create(component_stack, key)
    response = add_session(component_stack, key, event, **session)
    assert response.status_code == status, response.text
    jsonschema.validate(response.json(), ERROR_REPLY)
    assert response.json()["error"]["code"] == code


def test_another_organisations_event_takes_no_session(component_stack: Stack) -> None:
    theirs = create(component_stack, component_stack.key(org="globex"))
    response = add_session(component_stack, component_stack.key(org="acme"), theirs)
    assert response.status_code == 404, response.text
    assert response.json()["error"]["code"] == "EVENT_NOT_FOUND"
    assert response.json()["statusCode"] == 404


def test_a_booking_window_in_the_seeds_own_utc_form(component_stack: Stack) -> None:
    # The seed writes booking_starts_on.utc as "YYYY-MM-DD HH:MM" (no offset): UTC
    key = component_stack.key()
    body = create_example(
        settings={
            "booking_starts_on": {"type": "ON_DATE", "utc": f"{YEAR - 1}-12-01 04:00"},
            "booking_ends_on": {"type": "CONTINUE_UNTIL_EVENT_ENDS"},
        }
    )
    settings = create(component_stack, key, body)["settings"]
    opens = settings["booking_starts_on"]
    assert opens["type"] == "ON_DATE"
    assert str(opens["utc"]).startswith(f"{YEAR - 1}-12-01"), opens
    # A time that is no instant at all is still refused
    body = create_example(settings={"booking_starts_on": {"type": "ON_DATE", "utc": "soon"}})
    org = org_of(component_stack, key)
    refused = call(component_stack, key, "POST", f"/orgs/{org}/events", json=body)
    assert refused.status_code == 422, refused.text
