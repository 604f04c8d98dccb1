"""DNS rebinding: the worker resolves the host at every attempt, checks every
address, and connects to the address it checked (never a second lookup)."""

from __future__ import annotations

import ipaddress

import pytest
from sqlalchemy import select

from rollcall.models import WebhookAttempt
from rollcall.workers import webhook_delivery
from tests.support.event_helpers import call, ok
from tests.support.factories import published_event
from tests.support.faults import wait_until
from tests.support.stack import Stack
from tests.support.webhook_receiver import webhook_receiver


def test_a_public_name_that_resolves_to_loopback_is_refused(
    component_stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a name accepted at creation (it is not an IP literal nor localhost)
    key = component_stack.key()
    with webhook_receiver() as receiver:
        port = receiver.url.rsplit(":", 1)[1].split("/")[0]
        body = {"url": f"http://hooks.rebind.test:{port}/in", "events": ["event.published"]}
        ok(call(component_stack, key, "POST", "/v1/webhooks", json=body), 201)
        # When its DNS answer turns to 127.0.0.1 by the time of delivery
        monkeypatch.setattr(
            webhook_delivery, "resolve", lambda host, port: [ipaddress.ip_address("127.0.0.1")]
        )
        published_event(component_stack, key)

        def refused() -> bool:
            with component_stack.db() as session:
                errors = session.scalars(select(WebhookAttempt.error)).all()
            return any("loopback address (127.0.0.1)" in (error or "") for error in errors)

        wait_until(refused, timeout=20, what="the refused attempt")
    # Then nothing reached the receiver
    assert receiver.requests == []


def test_the_request_goes_to_the_address_checked(
    component_stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given private targets allowed and a name only the check's lookup knows
    component_stack.settings.webhook_allow_private_targets = True
    key = component_stack.key()
    looked_up: list[str] = []

    def resolve(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
        looked_up.append(host)
        return [ipaddress.ip_address("127.0.0.1")]

    monkeypatch.setattr(webhook_delivery, "resolve", resolve)
    with webhook_receiver() as receiver:
        port = receiver.url.rsplit(":", 1)[1].split("/")[0]
        body = {"url": f"http://hooks.rebind.test:{port}/in", "events": ["event.published"]}
        ok(call(component_stack, key, "POST", "/v1/webhooks", json=body), 201)
        published_event(component_stack, key)
        wait_until(lambda: len(receiver.requests) == 1, timeout=20, what="the delivery")
        component_stack.drain()
    # Then it was sent to the checked address (the name resolves nowhere else),
    # with the name in its Host header
    assert looked_up == ["hooks.rebind.test"]
    assert receiver.requests[0].headers["host"] == f"hooks.rebind.test:{port}"
