"""Helpers for event management tests: HTTP shortcuts and direct database setup."""

from __future__ import annotations

from typing import Any

import httpx

from rollcall.domain.access.keys import get_or_create_organisation
from rollcall.domain.clock import utcnow
from rollcall.domain.enrollment.attendee_rows import upsert_attendee_rows
from tests.support.stack import Stack

DAILY = {
    "type": "daily",
    "starts_on": "2030-01-07T09:00:00",
    "duration_minutes": 90,
    "ends": {"type": "after", "count": 5},
}


def call(stack: Stack, key: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
    response: httpx.Response = stack.client.request(method, path, headers=stack.auth(key), **kwargs)
    return response


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def refused(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()["error"]
    assert body["code"] == code, body
    return body


def make_attendee(stack: Stack, ref: str, org: str = "acme") -> str:
    """An attendee of the organisation, created directly; returns its id."""
    with stack.db() as session:
        organisation = get_or_create_organisation(session, name=org, now=utcnow())
        now = utcnow()
        ids = upsert_attendee_rows(
            session,
            organisation_id=organisation.id,
            rows=[{"ref": ref, "email": f"{ref}@example.org", "name": ref.title()}],
            now=now,
            requested_at=now,
        )
        session.flush()
        return str(ids[ref])
