"""Webhooks end to end: PostgreSQL, Redis, the API over HTTP, ``dramatiq``
worker processes and a real HTTP receiver (http.server) in the test.

A receiver that fails first gets the same webhook-id again; every copy
verifies with the ``standardwebhooks`` library; a worker SIGKILLed
mid-delivery loses nothing (after dedupe by webhook-id the receiver has each
delivery exactly once, in order); 410 disables; a loopback target is refused
by default, at creation and at delivery; a rolled-back change delivers nothing.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select
from standardwebhooks import Webhook

from rollcall.domain.clock import utcnow
from rollcall.domain.webhooks.causes import record_event_change
from rollcall.models import Event, WebhookAttempt, WebhookDelivery
from tests.support.factories import enroll, published_event
from tests.support.faults import LiveStack, WorkerProcess, wait_recovered, wait_until
from tests.support.services import RedisServer
from tests.support.stack import Stack
from tests.support.webhook_receiver import webhook_receiver

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

#: The worker processes' webhook settings: fast retries, a short lease.
FAST = {
    "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
    "WEBHOOK_RETRY_BASE_MS": "200",
    "WEBHOOK_LEASE_SECONDS": "2",
}


def subscribe(stack: Stack, key: str, url: str, events: list[str]) -> dict[str, str]:
    response = stack.client.post(
        "/v1/webhooks", json={"url": url, "events": events}, headers=stack.auth(key)
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def worker(stack: Stack, tmp_path: Path, name: str, **env: str) -> WorkerProcess:
    return WorkerProcess(stack.settings, tmp_path / f"{name}.log", **(FAST | env)).start(threads=2)


def states(stack: Stack) -> list[str]:
    with stack.db() as session:
        return list(session.scalars(select(WebhookDelivery.state).order_by(WebhookDelivery.seq)))


def test_a_failing_receiver_gets_the_same_id_again_signed(
    live: LiveStack, redis_server: RedisServer, tmp_path: Path
) -> None:
    with live(redis_url=redis_server.url) as stack, webhook_receiver(script=[500]) as receiver:
        stack.settings.webhook_allow_private_targets = True
        key = stack.key()
        created = subscribe(stack, key, receiver.url, ["enrollment.enrolled", "job.succeeded"])
        event = published_event(stack, key)
        work = worker(stack, tmp_path, "worker")
        try:
            # When an attendee is enrolled and the receiver fails the first request
            job = enroll(stack, key, event["id"], "u-1")
            wait_until(lambda: len(receiver.requests) == 3, timeout=60, what="three requests")
            wait_until(lambda: states(stack) == ["succeeded"] * 2, timeout=30, what="recorded")
        finally:
            work.stop()
    # Then the failed delivery came again with the same webhook-id, before the next
    ids = receiver.ids()
    assert ids[0] == ids[1] != ids[2], ids
    bodies = [json.loads(r.body) for r in receiver.requests]
    assert [b["type"] for b in bodies] == ["enrollment.enrolled"] * 2 + ["job.succeeded"]
    assert bodies[2]["data"]["job"]["id"] == job["id"]
    assert bodies[2]["data"]["job"]["status"] == "succeeded"
    # and every copy verifies with the Standard Webhooks library
    verifier = Webhook(created["secret"])
    for request in receiver.requests:
        verifier.verify(request.body, request.headers)


def test_a_worker_killed_mid_delivery_loses_nothing(
    live: LiveStack, redis_server: RedisServer, tmp_path: Path
) -> None:
    with live(redis_url=redis_server.url) as stack, webhook_receiver() as receiver:
        stack.settings.webhook_allow_private_targets = True
        key = stack.key()
        subscribe(stack, key, receiver.url, ["event.published"])
        # Given a receiver that holds its answers, and three events published
        receiver.release.clear()
        for n in range(3):
            published_event(stack, key, ref=f"killed-{n}")
        first = worker(stack, tmp_path, "first")
        # When the worker is SIGKILLed while the first delivery waits for its answer
        assert receiver.arrived.wait(timeout=60), first.tail()
        first.kill()
        receiver.release.set()
        second = worker(stack, tmp_path, "second")
        try:
            wait_recovered(
                stack,
                lambda: len(receiver.unique()) == 3,
                timeout=90,
                what="every delivery",
                every=0.5,
            )
            wait_until(lambda: states(stack) == ["succeeded"] * 3, timeout=30, what="recorded")
        finally:
            second.stop()
    # Then, deduped by webhook-id, each delivery arrived once, in order
    unique = receiver.unique()
    refs = [json.loads(r.body)["data"]["event"]["ref"] for r in unique.values()]
    assert refs == ["killed-0", "killed-1", "killed-2"]
    copies = Counter(receiver.ids())
    assert set(copies) == set(unique) and max(copies.values()) <= 2, copies
    # (the one in flight at the kill came again, with its webhook-id)
    assert copies[next(iter(unique))] == 2, copies


def test_410_disables_the_subscription(
    live: LiveStack, redis_server: RedisServer, tmp_path: Path
) -> None:
    with live(redis_url=redis_server.url) as stack, webhook_receiver(script=[410]) as receiver:
        stack.settings.webhook_allow_private_targets = True
        key = stack.key()
        created = subscribe(stack, key, receiver.url, ["event.published"])
        work = worker(stack, tmp_path, "worker")
        try:
            published_event(stack, key, ref="gone-1")
            wait_until(lambda: states(stack) == ["failed"], timeout=60, what="the 410")
            # A later change delivers nothing to a disabled subscription
            published_event(stack, key, ref="gone-2")
        finally:
            work.stop()
        shown = stack.client.get(f"/v1/webhooks/{created['id']}", headers=stack.auth(key)).json()
    assert shown["enabled"] is False and "410" in shown["disabled_reason"]
    assert len(receiver.requests) == 1
    assert states(stack) == ["failed"]


def test_a_loopback_target_is_refused_by_default(
    live: LiveStack, redis_server: RedisServer, tmp_path: Path
) -> None:
    with live(redis_url=redis_server.url) as stack, webhook_receiver() as receiver:
        key = stack.key()
        # At creation: refused with its code
        response = stack.client.post(
            "/v1/webhooks",
            json={"url": receiver.url, "events": ["event.published"]},
            headers=stack.auth(key),
        )
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "WEBHOOK_TARGET_BLOCKED"
        # At delivery (a name that resolves to loopback, created while allowed):
        # the worker, on the default settings, resolves it and refuses to send
        stack.settings.webhook_allow_private_targets = True
        port = receiver.url.split(":")[2].split("/")[0]
        subscribe(stack, key, f"http://localhost:{port}/hook", ["event.published"])
        work = worker(stack, tmp_path, "worker", WEBHOOK_ALLOW_PRIVATE_TARGETS="false")
        try:
            published_event(stack, key)

            def refused() -> bool:
                with stack.db() as session:
                    errors = session.scalars(select(WebhookAttempt.error)).all()
                return any("loopback" in (error or "") for error in errors)

            wait_until(refused, timeout=60, what="the refused attempt")
        finally:
            work.stop()
    assert receiver.requests == []


def test_a_rolled_back_change_delivers_nothing(
    live: LiveStack, redis_server: RedisServer, tmp_path: Path
) -> None:
    with live(redis_url=redis_server.url) as stack, webhook_receiver() as receiver:
        stack.settings.webhook_allow_private_targets = True
        key = stack.key()
        subscribe(stack, key, receiver.url, ["event.published", "event.cancelled"])
        work = worker(stack, tmp_path, "worker")
        try:
            event = published_event(stack, key, ref="kept")
            # When a change records its delivery and then rolls back
            with stack.sessions() as session, session.begin():
                row = session.get(Event, uuid.UUID(event["id"]))
                assert row is not None
                record_event_change(session, event_type="event.cancelled", event=row, now=utcnow())
                session.rollback()
            # and a later change commits
            published_event(stack, key, ref="later")
            wait_until(lambda: len(receiver.requests) == 2, timeout=60, what="two deliveries")
        finally:
            work.stop()
    # Then only the committed changes were delivered (in order: the rolled-back
    # one, had it been recorded, would have come before the later one)
    kinds = [json.loads(r.body) for r in receiver.requests]
    assert [(k["type"], k["data"]["event"]["ref"]) for k in kinds] == [
        ("event.published", "kept"),
        ("event.published", "later"),
    ]
    assert len(states(stack)) == 2
