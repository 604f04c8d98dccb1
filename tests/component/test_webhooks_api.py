"""Webhook subscriptions over HTTP on SQLite, and deliveries through the
in-process worker to a real HTTP receiver: the API, its refusals, signing,
retries with the same webhook-id, 410, order, and rollback."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select
from standardwebhooks import Webhook

from rollcall.domain.clock import utcnow
from rollcall.domain.webhooks.causes import record_event_change
from rollcall.messaging.outbox import relay
from rollcall.models import Event, WebhookDelivery
from tests.support.event_helpers import call, ok, refused
from tests.support.factories import enroll, published_event
from tests.support.faults import wait_until
from tests.support.stack import Stack
from tests.support.webhook_receiver import webhook_receiver


@pytest.fixture(autouse=True)
def _fast_webhooks(component_stack: Stack) -> None:
    component_stack.settings.webhook_allow_private_targets = True
    component_stack.settings.webhook_retry_base_ms = 20


def subscribe(stack: Stack, key: str, url: str, events: list[str]) -> dict[str, object]:
    body = {"url": url, "events": events, "description": "test"}
    return dict(ok(call(stack, key, "POST", "/v1/webhooks", json=body), 201))


def test_create_list_patch_rotate_delete(component_stack: Stack) -> None:
    key = component_stack.key(scopes=["webhooks:write"])
    # When a subscription is created, its secret is shown once
    created = subscribe(component_stack, key, "https://hooks.example.org/in", ["job.succeeded"])
    secret = str(created["secret"])
    assert secret.startswith("whsec_")
    Webhook(secret)  # a Standard Webhooks library takes it
    shown = ok(call(component_stack, key, "GET", f"/v1/webhooks/{created['id']}"))
    assert shown["secret"] is None and shown["enabled"] is True
    listed = ok(call(component_stack, key, "GET", "/v1/webhooks"))
    assert [item["id"] for item in listed["items"]] == [created["id"]]
    # Disable, change the events, rotate
    patched = ok(
        call(
            component_stack,
            key,
            "PATCH",
            f"/v1/webhooks/{created['id']}",
            json={"enabled": False, "events": ["event.published", "job.failed"]},
        )
    )
    assert patched["enabled"] is False and patched["disabled_reason"] == "Disabled through the API."
    assert patched["events"] == ["event.published", "job.failed"]
    rotated = ok(
        call(
            component_stack,
            key,
            "PATCH",
            f"/v1/webhooks/{created['id']}",
            json={"rotate_secret": True, "enabled": True},
        )
    )
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != secret
    assert rotated["enabled"] is True and rotated["disabled_reason"] is None
    ok(call(component_stack, key, "DELETE", f"/v1/webhooks/{created['id']}"))
    refused(
        call(component_stack, key, "GET", f"/v1/webhooks/{created['id']}"), 404, "WEBHOOK_NOT_FOUND"
    )


def test_scope_and_tenancy(component_stack: Stack) -> None:
    key = component_stack.key(scopes=["events:write"])
    refused(call(component_stack, key, "GET", "/v1/webhooks"), 403, "INSUFFICIENT_SCOPE")
    mine = component_stack.key(scopes=["webhooks:write"])
    theirs = component_stack.key(org="other", scopes=["webhooks:write"])
    created = subscribe(component_stack, mine, "https://hooks.example.org/", ["job.failed"])
    refused(
        call(component_stack, theirs, "GET", f"/v1/webhooks/{created['id']}"),
        404,
        "WEBHOOK_NOT_FOUND",
    )
    refused(
        call(component_stack, theirs, "GET", f"/v1/webhooks/{created['id']}/deliveries"),
        404,
        "WEBHOOK_NOT_FOUND",
    )


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"url": "ftp://example.org/", "events": ["job.failed"]}, "WEBHOOK_URL_INVALID"),
        ({"url": "not a url", "events": ["job.failed"]}, "WEBHOOK_URL_INVALID"),
        ({"url": "https://", "events": ["job.failed"]}, "WEBHOOK_URL_INVALID"),
        ({"url": "https://u:p@example.org/", "events": ["job.failed"]}, "WEBHOOK_URL_INVALID"),
        ({"url": "https://example.org:99999/", "events": ["job.failed"]}, "WEBHOOK_URL_INVALID"),
        ({"url": "https://example.org/", "events": ["job.exploded"]}, "WEBHOOK_EVENT_TYPE_UNKNOWN"),
        ({"url": "https://example.org/", "events": []}, "VALIDATION_ERROR"),
        ({"url": "https://example.org/", "events": ["job.failed"] * 10_000}, "VALIDATION_ERROR"),
        ({"url": "https://example.org/\u0000", "events": ["job.failed"]}, "VALIDATION_ERROR"),
        ({"url": "https://example.org/", "events": ["job.\u0000failed"]}, "VALIDATION_ERROR"),
        ({"url": "https://example.org/", "events": ["job.failed"], "x": 1}, "VALIDATION_ERROR"),
        (
            {"url": "https://example.org/" + "a" * 3000, "events": ["job.failed"]},
            "VALIDATION_ERROR",
        ),
        ({"url": "https://example.org/", "events": "job.failed"}, "VALIDATION_ERROR"),
    ],
)
def test_bad_input_is_refused_with_a_code(
    component_stack: Stack, body: dict[str, object], code: str
) -> None:
    key = component_stack.key(scopes=["webhooks:write"])
    refused(call(component_stack, key, "POST", "/v1/webhooks", json=body), 422, code)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/",
        "http://localhost/",
        "http://[::1]/",
        "http://10.1.2.3/",
        "http://192.168.0.10/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/",
        "http://[fd00:ec2::254]/",
    ],
)
def test_blocked_targets_are_refused_by_default(component_stack: Stack, url: str) -> None:
    # Given the production default (no private targets)
    component_stack.settings.webhook_allow_private_targets = False
    key = component_stack.key(scopes=["webhooks:write"])
    body = {"url": url, "events": ["job.failed"]}
    refused(
        call(component_stack, key, "POST", "/v1/webhooks", json=body), 422, "WEBHOOK_TARGET_BLOCKED"
    )
    # and a PATCH to such a URL too
    created = subscribe(component_stack, key, "https://hooks.example.org/", ["job.failed"])
    refused(
        call(component_stack, key, "PATCH", f"/v1/webhooks/{created['id']}", json={"url": url}),
        422,
        "WEBHOOK_TARGET_BLOCKED",
    )


def test_unknown_ids_are_not_found(component_stack: Stack) -> None:
    key = component_stack.key(scopes=["webhooks:write"])
    refused(call(component_stack, key, "GET", "/v1/webhooks/nope"), 404, "WEBHOOK_NOT_FOUND")
    created = subscribe(component_stack, key, "https://hooks.example.org/", ["job.failed"])
    refused(
        call(
            component_stack,
            key,
            "POST",
            f"/v1/webhooks/{created['id']}/deliveries/msg_00/redeliver",
        ),
        404,
        "WEBHOOK_DELIVERY_NOT_FOUND",
    )


def test_signed_deliveries_retry_with_the_same_id_in_order(component_stack: Stack) -> None:
    key = component_stack.key()
    # Given a receiver that fails its first two requests
    with webhook_receiver(script=[500, 503]) as receiver:
        created = subscribe(
            component_stack, key, receiver.url, ["job.succeeded", "enrollment.enrolled"]
        )
        event = published_event(component_stack, key, max_subscriptions=5)
        # When an attendee is enrolled
        job = enroll(component_stack, key, event["id"], "u-1")
        component_stack.drain()
        wait_until(lambda: len(receiver.unique()) == 2, timeout=20, what="two deliveries")
        component_stack.drain()

    # Then the first delivery came three times with one webhook-id, and the next after it
    ids = receiver.ids()
    assert ids[0] == ids[1] == ids[2] and len(set(ids)) == 2, ids
    bodies = [json.loads(r.body) for r in receiver.unique().values()]
    # in the order the events happened: the enrollment, then the job's end
    assert [b["type"] for b in bodies] == ["enrollment.enrolled", "job.succeeded"]
    assert bodies[0]["data"]["attendee"] == {"ref": "u-1"}
    assert bodies[0]["data"]["event"]["id"] == event["id"]
    assert bodies[1]["data"]["job"]["id"] == job["id"]
    # and every copy verifies with a Standard Webhooks library
    verifier = Webhook(str(created["secret"]))
    for request in receiver.requests:
        assert verifier.verify(request.body, request.headers)["type"] in {
            "enrollment.enrolled",
            "job.succeeded",
        }
    # and the log shows the attempts
    log = ok(call(component_stack, key, "GET", f"/v1/webhooks/{created['id']}/deliveries"))
    first = log["items"][-1]
    assert first["state"] == "succeeded" and first["attempts"] == 3
    assert [a["status_code"] for a in first["attempt_log"]] == [500, 503, 200]
    assert first["attempt_log"][0]["response_excerpt"] == "nope"


def test_gone_disables_and_redeliver_sends_again(component_stack: Stack) -> None:
    key = component_stack.key()
    with webhook_receiver(script=[410]) as receiver:
        created = subscribe(component_stack, key, receiver.url, ["event.published"])
        published_event(component_stack, key)
        component_stack.drain()
        wait_until(lambda: len(receiver.requests) == 1, timeout=10, what="the delivery")
        component_stack.drain()
        shown = ok(call(component_stack, key, "GET", f"/v1/webhooks/{created['id']}"))
        assert shown["enabled"] is False
        assert "410" in shown["disabled_reason"]
        log = ok(call(component_stack, key, "GET", f"/v1/webhooks/{created['id']}/deliveries"))
        delivery = log["items"][0]
        assert delivery["state"] == "failed"
        # When the operator enables it again and redelivers
        ok(
            call(
                component_stack,
                key,
                "PATCH",
                f"/v1/webhooks/{created['id']}",
                json={"enabled": True},
            )
        )
        path = f"/v1/webhooks/{created['id']}/deliveries/{delivery['id']}/redeliver"
        ok(call(component_stack, key, "POST", path), 202)
        component_stack.drain()
        wait_until(lambda: len(receiver.requests) == 2, timeout=10, what="the redelivery")
    assert receiver.ids() == [delivery["id"], delivery["id"]]


def test_consecutive_failures_disable_the_subscription(component_stack: Stack) -> None:
    # Given deliveries that are given up at once, and a limit of two
    component_stack.settings.webhook_retry_window_seconds = 1
    component_stack.settings.webhook_retry_base_ms = 5_000
    component_stack.settings.webhook_disable_after_failures = 2
    key = component_stack.key()
    with webhook_receiver(script=[500, 500, 500]) as receiver:
        created = subscribe(component_stack, key, receiver.url, ["event.published"])
        # Three deliveries recorded while the subscription is enabled, before
        # any is tried: the worker runs all along, and two quick failures could
        # otherwise disable it before the third event is published.
        component_stack.settings.enqueue_on_commit = False
        for n in range(3):
            published_event(component_stack, key, ref=f"e-{n}")
        component_stack.settings.enqueue_on_commit = True
        later = utcnow() + timedelta(minutes=5)
        relay(component_stack.sessions, component_stack.broker, now=later, older_than_seconds=0)
        component_stack.drain()
        wait_until(lambda: len(receiver.requests) >= 2, timeout=10, what="two failures")
        component_stack.drain()
    shown = ok(call(component_stack, key, "GET", f"/v1/webhooks/{created['id']}"))
    assert shown["enabled"] is False
    assert shown["disabled_reason"].startswith("2 deliveries in a row failed")
    # and the third waits, pending, for the subscription to be enabled
    log = ok(call(component_stack, key, "GET", f"/v1/webhooks/{created['id']}/deliveries"))
    assert [d["state"] for d in log["items"]] == ["pending", "failed", "failed"]


def test_a_rolled_back_change_records_no_delivery(component_stack: Stack) -> None:
    key = component_stack.key()
    # (port 9 refuses connections: nothing leaves the machine)
    subscribe(component_stack, key, "http://127.0.0.1:9/", ["event.published"])
    event = published_event(component_stack, key)
    with component_stack.db() as session:
        before = len(session.scalars(select(WebhookDelivery)).all())
    # When a change records its delivery and then rolls back
    with component_stack.sessions() as session, session.begin():
        row = session.get(Event, uuid.UUID(event["id"]))
        assert row is not None
        record_event_change(session, event_type="event.published", event=row, now=utcnow())
        session.rollback()
    with component_stack.db() as session:
        assert len(session.scalars(select(WebhookDelivery)).all()) == before
