"""Seed 002's dialect end to end on PostgreSQL, Redis, a worker and real SMTP: an
event created, duplicated, published and cancelled through the seed's routes;
its enrolled attendee is mailed the cancellation as with /v1."""

from __future__ import annotations

import jsonschema

from tests.support.event_helpers import call, ok
from tests.support.factories import enroll
from tests.support.seed002 import (
    EVENT_REPLY,
    EVENTS_REPLY,
    LOCAL_START,
    SENTENCE_REPLY,
    UTC_START,
    create_example,
    org_of,
)
from tests.support.stack import Stack


def test_seed_routes_create_publish_and_cancel_with_mail(real_stack: Stack) -> None:
    # Given the seed's create example, posted to the caller's organisation
    key = real_stack.key()
    other = real_stack.key(org="globex")
    org_uuid = org_of(real_stack, key)
    created = ok(
        call(real_stack, key, "POST", f"/orgs/{org_uuid}/events", json=create_example()), 201
    )
    jsonschema.validate(created, EVENT_REPLY)
    event = created["result"]["event"]
    assert event["event_occurrence"][0]["start_on"] == {
        "utc": UTC_START,
        "local": LOCAL_START,
    }

    # When it is duplicated, published, enrolled in (/v1) and cancelled (seed)
    copy = ok(call(real_stack, key, "POST", f"/events/{event['uuid']}/duplicate"), 201)
    jsonschema.validate(copy, EVENT_REPLY)
    published = ok(call(real_stack, key, "POST", f"/events/{event['uuid']}/publish"), 201)
    jsonschema.validate(published, SENTENCE_REPLY)
    enroll(real_stack, key, event["uuid"], "ada")
    real_stack.drain()
    real_stack.sink.wait_for(1)
    cancelled = ok(call(real_stack, key, "POST", f"/events/{event['uuid']}/cancel"), 200)
    assert cancelled == {"statusCode": 200, "result": "Event has been cancelled successfully."}
    real_stack.drain()

    # Then the attendee is mailed the cancellation, and the other org sees nothing
    mails = real_stack.sink.wait_for(2)
    assert any(m["Subject"].startswith("Cancelled") for m in mails), [m["Subject"] for m in mails]
    listed = ok(call(real_stack, key, "GET", f"/orgs/{org_uuid}/events"))
    jsonschema.validate(listed, EVENTS_REPLY)
    assert len(listed["result"]["events"]) == 2
    hidden = call(real_stack, other, "GET", f"/events/{event['uuid']}")
    assert hidden.status_code == 404
    assert hidden.json()["statusCode"] == 404
