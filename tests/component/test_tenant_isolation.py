"""Tenants are isolated: every route that names a resource is tried with another
organisation's all-scope key, and none of them finds it."""

from __future__ import annotations

import re

from tests.support.factories import enroll, published_event
from tests.support.stack import Stack

#: Routes without a tenant-owned resource in their path.
UNSCOPED = {"/healthz", "/readyz", "/metrics"}


def test_every_route_hides_other_organisations_resources(component_stack: Stack) -> None:
    # Given resources of organisation A
    ours = component_stack.key("acme")
    theirs = component_stack.key("globex", operator=False)
    event = published_event(
        component_stack,
        ours,
        ref="acme-only",
        starts_at="2031-05-01T09:00:00+00:00",
        ends_at="2031-05-01T10:00:00+00:00",
    )
    accepted = enroll(component_stack, ours, event["id"], "ada")
    component_stack.drain()
    auth = component_stack.auth(ours)
    occurrences = component_stack.client.get(f"/v1/events/{event['id']}/occurrences", headers=auth)
    session = component_stack.client.post(
        f"/v1/events/{event['id']}/sessions", headers=auth, json={"name": "Part 1", "capacity": 5}
    )
    assert session.status_code == 201, session.text
    offer = component_stack.client.post(
        "/v1/offers", headers=auth, json={"title": "Acme offer", "ref": "acme-only-offer"}
    )
    assert offer.status_code == 201, offer.text
    # (.invalid never resolves: nothing is ever sent)
    webhook = component_stack.client.post(
        "/v1/webhooks",
        headers=auth,
        json={"url": "https://hooks.acme-only.invalid/", "events": ["job.failed"]},
    )
    assert webhook.status_code == 201, webhook.text
    values = {
        "webhook_id": webhook.json()["id"],
        "delivery_id": "msg_0123456789abcdef0123456789abcdef",
        "offer_id": offer.json()["id"],
        "event_id": event["id"],
        "event_uuid": event["id"],
        "org_uuid": component_stack.client.get("/v1/keys", headers=auth).json()["keys"][0][
            "organisation_id"
        ],
        "occurrence_id": occurrences.json()["items"][0]["id"],
        "session_id": session.json()["id"],
        "entry": occurrences.json()["items"][0]["id"],
        "job_id": accepted["id"],
        "enrollment_id": component_stack.client.get(
            f"/v1/jobs/{accepted['id']}", headers=auth
        ).json()["result"]["enrollment_id"],
        "ref": "ada",
        "attendee_ref": "ada",
        "key_id": component_stack.client.get("/v1/keys", headers=auth).json()["keys"][0]["id"],
        "token_id": component_stack.client.post("/v1/attendees/ada/tokens", headers=auth).json()[
            "token_id"
        ],
    }

    # When organisation B calls every route naming them
    schema = component_stack.client.get("/openapi.json").json()
    tried = 0
    for template, operations in schema["paths"].items():
        params = re.findall(r"{(\w+)}", template)
        if template in UNSCOPED or not params:
            continue
        missing = [name for name in params if name not in values]
        assert not missing, f"add a value for {missing} of {template} to this test"
        path = template
        for name in params:
            path = path.replace("{" + name + "}", values[name])
        for method in operations:
            response = component_stack.client.request(
                method.upper(), path, headers=component_stack.auth(theirs), json={}
            )
            tried += 1
            # Then nothing is found (or the body is refused before any lookup)
            # (calendar routes take end-user tokens only: an API key is refused
            # outright; tests/component/test_calendar_* try another organisation's token)
            allowed = (401, 403) if path.startswith("/v1/calendar") else (404, 422)
            assert response.status_code in allowed, (method, path, response.text)
            assert "acme-only" not in response.text
    assert tried >= 3
