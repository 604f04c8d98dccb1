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
