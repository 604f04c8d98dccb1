"""Authentication, scopes and the one error body shape."""

from __future__ import annotations

import pytest

from tests.support.factories import published_event
from tests.support.stack import Stack


def error(response: object) -> dict[str, object]:
    body = response.json()  # type: ignore[attr-defined]
    assert set(body) == {"error"}
    assert {"code", "message"} <= set(body["error"])
    return dict(body["error"])


@pytest.mark.parametrize("header", [None, "Bearer nope", "Basic abc", "Bearer "])
def test_missing_or_invalid_key_is_401(component_stack: Stack, header: str | None) -> None:
    headers = {"Authorization": header} if header is not None else {}
    response = component_stack.client.post("/v1/events", json={"name": "x"}, headers=headers)
    assert response.status_code == 401
    assert error(response)["code"] == "INVALID_API_KEY"
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    ("method", "path", "scope"),
    [
        ("POST", "/v1/events", "events:write"),
        ("POST", "/v1/events/x/publish", "events:write"),
        ("GET", "/v1/events/x", "events:read"),
        ("POST", "/v1/events/x/enrollments", "students:write"),
        ("GET", "/v1/jobs/x", "jobs:read"),
    ],
)
def test_key_without_the_scope_is_403(
    component_stack: Stack, method: str, path: str, scope: str
) -> None:
    key = component_stack.key(scopes=["ops"])
    response = component_stack.client.request(
        method, path, headers=component_stack.auth(key), json={}
    )
    assert response.status_code == 403
    assert error(response)["code"] == "INSUFFICIENT_SCOPE"


def test_events_read_scope_may_read_but_not_write(component_stack: Stack) -> None:
    writer = component_stack.key(scopes=["events:write"])
    reader = component_stack.key(scopes=["events:read"])
    event = published_event(component_stack, writer, ref="r")
    assert (
        component_stack.client.get("/v1/events/r", headers=component_stack.auth(reader)).json()[
            "id"
        ]
        == (event["id"])
    )
    denied = component_stack.client.post(
        "/v1/events/r/publish", headers=component_stack.auth(reader)
    )
    assert denied.status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "TRAINING"}, "name"),
        ({"name": "ok"}, "type"),
        ({"type": "TRAINING", "name": "x" * 76}, "name"),
        ({"type": "TRAINING", "name": "ok", "description": "x" * 2501}, "description"),
        ({"type": "TRAINING", "name": "ok", "timezone": "Mars/Olympus"}, "timezone"),
        ({"type": "PARTY", "name": "ok"}, "type"),
        ({"type": "TRAINING", "name": "ok", "starts_at": "2027-01-01T10:00:00"}, "starts_at"),
        ({"type": "TRAINING", "name": "ok", "max_subscriptions": -1}, "max_subscriptions"),
        ({"type": "TRAINING", "name": "ok", "surprise": 1}, "surprise"),
    ],
)
def test_invalid_event_body_is_422_with_the_field(
    component_stack: Stack, body: dict[str, object], field: str
) -> None:
    key = component_stack.key()
    response = component_stack.client.post(
        "/v1/events", json=body, headers=component_stack.auth(key)
    )
    assert response.status_code == 422
    problem = error(response)
    assert problem["code"] == "VALIDATION_ERROR"
    assert field in str(problem["message"])


def test_invalid_attendee_email_is_422(component_stack: Stack) -> None:
    key = component_stack.key()
    published_event(component_stack, key, ref="e")
    response = component_stack.client.post(
        "/v1/events/e/enrollments",
        json={"attendee": {"ref": "a", "email": "not-an-email"}},
        headers=component_stack.auth(key),
    )
    assert response.status_code == 422
    assert "email" in str(error(response)["message"])


def test_duplicate_ref_is_409(component_stack: Stack) -> None:
    key = component_stack.key()
    published_event(component_stack, key, ref="same")
    again = component_stack.client.post(
        "/v1/events",
        json={"name": "again", "type": "TRAINING", "ref": "same"},
        headers=component_stack.auth(key),
    )
    assert again.status_code == 409
    assert error(again)["code"] == "EVENT_REF_TAKEN"


def test_publish_twice_is_409(component_stack: Stack) -> None:
    key = component_stack.key()
    published_event(component_stack, key, ref="p")
    again = component_stack.client.post("/v1/events/p/publish", headers=component_stack.auth(key))
    assert (again.status_code, error(again)["code"]) == (409, "EVENT_ALREADY_PUBLISHED")


def test_idempotency_key_for_another_request_is_409(component_stack: Stack) -> None:
    key = component_stack.key()
    published_event(component_stack, key, ref="i")
    headers = component_stack.auth(key) | {"Idempotency-Key": "same"}
    first = component_stack.client.post(
        "/v1/events/i/enrollments",
        json={"attendee": {"ref": "a", "email": "a@example.org"}},
        headers=headers,
    )
    other = component_stack.client.post(
        "/v1/events/i/enrollments",
        json={"attendee": {"ref": "b", "email": "b@example.org"}},
        headers=headers,
    )
    assert first.status_code == 202
    assert (other.status_code, error(other)["code"]) == (409, "IDEMPOTENCY_KEY_REUSED")


def test_unknown_job_and_foreign_job_are_404(component_stack: Stack) -> None:
    ours = component_stack.key("acme")
    theirs = component_stack.key("globex")
    published_event(component_stack, ours, ref="j")
    accepted = component_stack.client.post(
        "/v1/events/j/enrollments",
        json={"attendee": {"ref": "a", "email": "a@example.org"}},
        headers=component_stack.auth(ours),
    ).json()
    for job_id, key in (("not-a-uuid", ours), (accepted["id"], theirs)):
        response = component_stack.client.get(
            f"/v1/jobs/{job_id}", headers=component_stack.auth(key)
        )
        assert (response.status_code, error(response)["code"]) == (404, "JOB_NOT_FOUND")
