"""The dashboard's webhooks page: subscriptions (failing first), deliveries and
redeliver, every value HTML-escaped, every form with its CSRF token; and the
webhook figures on /metrics."""

from __future__ import annotations

import uuid

import pytest
from markupsafe import escape
from sqlalchemy import select

from rollcall.domain.clock import utcnow
from rollcall.models import WebhookDelivery, WebhookSubscription
from tests.support.event_helpers import call, ok
from tests.support.ops import labels, metrics, post_forms, sign_in
from tests.support.stack import Stack

PAYLOAD = "\"'><img src=x onerror=alert(1)>"
#: A URL takes no spaces.
URL_PAYLOAD = "\"'><svg/onload=alert(1)>"


@pytest.fixture
def failed_delivery(component_stack: Stack) -> tuple[str, str, str]:
    """(key, subscription id, webhook-id) of a disabled subscription with one
    failed delivery, every free text carrying the payload."""
    component_stack.settings.webhook_allow_private_targets = True
    key = component_stack.key(operator=True)
    created = ok(
        call(
            component_stack,
            key,
            "POST",
            "/v1/webhooks",
            json={
                # (port 9 refuses connections: a redelivery fails, and retries)
                "url": f"http://127.0.0.1:9/{URL_PAYLOAD}",
                "events": ["event.published"],
                "description": PAYLOAD,
            },
        ),
        201,
    )
    now = utcnow()
    delivery_id = uuid.uuid4()
    with component_stack.db() as session:
        sub = session.get(WebhookSubscription, uuid.UUID(created["id"]))
        assert sub is not None
        sub.enabled = False
        sub.disabled_reason = f"reason {PAYLOAD}"
        sub.consecutive_failures = 5
        session.add(
            WebhookDelivery(
                id=delivery_id,
                subscription_id=sub.id,
                organisation_id=sub.organisation_id,
                event_type="event.published",
                payload={"type": "event.published", "timestamp": "x", "data": {}},
                state="failed",
                attempts=3,
                last_status=None,
                last_error=f"error {PAYLOAD}",
                created_at=now,
                finished_at=now,
            )
        )
    return key, created["id"], f"msg_{delivery_id.hex}"


def test_the_page_escapes_every_value(
    component_stack: Stack, failed_delivery: tuple[str, str, str]
) -> None:
    key, _sub_id, _webhook_id = failed_delivery
    cookie = sign_in(component_stack, key)
    page = component_stack.client.get("/ops/webhooks", headers=cookie)
    assert page.status_code == 200, page.text
    assert PAYLOAD not in page.text and URL_PAYLOAD not in page.text
    assert str(escape(URL_PAYLOAD)) in page.text
    for shown in (PAYLOAD, f"reason {PAYLOAD}", f"error {PAYLOAD}"):
        assert str(escape(shown)) in page.text
    state_filter = component_stack.client.get(
        "/ops/webhooks", params={"state": PAYLOAD}, headers=cookie
    )
    assert state_filter.status_code == 200 and PAYLOAD not in state_filter.text


def test_redeliver_and_enable_through_forms_with_their_csrf_token(
    component_stack: Stack, failed_delivery: tuple[str, str, str]
) -> None:
    key, sub_id, webhook_id = failed_delivery
    cookie = sign_in(component_stack, key)
    forms = post_forms(component_stack.client.get("/ops/webhooks", headers=cookie).text)
    actions = {form["@action"]: form for form in forms}
    redeliver = f"/ops/webhooks/{sub_id}/deliveries/{webhook_id}/redeliver"
    enable = f"/ops/webhooks/{sub_id}/enable"
    assert {redeliver, enable} <= set(actions)
    assert all(form.get("csrf_token") == cookie.csrf_token for form in forms)
    # A post without the token is refused
    refused = component_stack.client.post(redeliver, data={}, headers=cookie)
    assert refused.status_code == 403 and "CSRF_TOKEN_INVALID" in refused.text
    # With it, the delivery is queued again and the subscription enabled
    for action in (redeliver, enable):
        done = component_stack.client.post(
            action, data=cookie.form(), headers=cookie, follow_redirects=False
        )
        assert done.status_code == 303, done.text
    with component_stack.db() as session:
        sub = session.get(WebhookSubscription, uuid.UUID(sub_id))
        assert sub is not None and sub.enabled and sub.disabled_reason is None
        state = session.scalar(select(WebhookDelivery.state))
    # (nothing listens on port 9: the worker's attempt fails and is retried)
    assert state in ("pending", "delivering", "retrying")


def test_metrics_count_deliveries_by_state_and_the_backlog(
    component_stack: Stack, failed_delivery: tuple[str, str, str]
) -> None:
    key, _sub_id, _webhook_id = failed_delivery
    samples = metrics(component_stack, key)
    assert samples["rollcall_webhook_deliveries"][labels(state="failed")] == 1
    assert samples["rollcall_webhook_deliveries"][labels(state="succeeded")] == 0
    assert samples["rollcall_webhook_backlog"][()] == 0
    assert samples["rollcall_webhook_subscriptions"][labels(enabled="false")] == 1
