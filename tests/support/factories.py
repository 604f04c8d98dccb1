"""Factories for tests that speak HTTP: create and publish events, enroll people."""

from __future__ import annotations

from typing import Any

from tests.support.stack import Stack


def create_event(stack: Stack, key: str, **fields: Any) -> dict[str, Any]:
    body = {
        "name": "Intro to Rollcall",
        "type": "TRAINING",
        "timezone": "Europe/Amsterdam",
    } | fields
    response = stack.client.post("/v1/events", json=body, headers=stack.auth(key))
    assert response.status_code == 201, response.text
    return dict(response.json())


def published_event(stack: Stack, key: str, **fields: Any) -> dict[str, Any]:
    event = create_event(stack, key, **fields)
    response = stack.client.post(f"/v1/events/{event['id']}/publish", headers=stack.auth(key))
    assert response.status_code == 200, response.text
    return dict(response.json())


def enroll(
    stack: Stack, key: str, event: str, ref: str, *, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    body = {"attendee": {"ref": ref, "email": f"{ref}@example.org", "name": ref.title()}}
    response = stack.client.post(
        f"/v1/events/{event}/enrollments", json=body, headers=stack.auth(key) | (headers or {})
    )
    assert response.status_code == 202, response.text
    return dict(response.json())


def job(stack: Stack, key: str, job_id: str) -> dict[str, Any]:
    response = stack.client.get(f"/v1/jobs/{job_id}", headers=stack.auth(key))
    assert response.status_code == 200, response.text
    return dict(response.json())
