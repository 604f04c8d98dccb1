"""Every call to action the calendar hands out works when followed literally.

The test takes each CTA object from ``GET /v1/calendar`` and sends exactly its
``method``, ``href`` and ``body`` with the credential its ``scope`` names, over
real HTTP (uvicorn, PostgreSQL, Redis, a Dramatiq worker), then checks the
effect: the job it got back succeeded (read at its ``Location`` with the same
credential) and the attendee is enrolled, waitlisted, cancelled or
bookmarked. It does so on every kind of event and for every action the
policy can emit (``policy.CTA_ACTIONS``), so a new action or event kind that
cannot be followed fails here.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from rollcall.domain.calendar.policy import CTA_ACTIONS
from tests.support.calendar import calendar, issue_token
from tests.support.event_helpers import make_attendee
from tests.support.factories import create_event
from tests.support.stack import Stack

DATES = [
    {"starts_at": "2031-06-01T09:00:00Z", "ends_at": "2031-06-01T10:00:00Z"},
    {"starts_at": "2031-06-08T09:00:00Z", "ends_at": "2031-06-08T10:00:00Z"},
]

#: Every kind of event a calendar entry can belong to.
KINDS: dict[str, dict[str, Any]] = {
    "single": {"starts_at": DATES[0]["starts_at"], "ends_at": DATES[0]["ends_at"]},
    "several_dates": {"dates": DATES},
    "booked_per_date": {"dates": DATES, "booked_per_date": True},
    "with_sessions": {"dates": DATES, "sessions": True},
    "booked_per_date_with_sessions": {"dates": DATES, "booked_per_date": True, "sessions": True},
}


def _event(stack: Stack, key: str, ref: str, kind: dict[str, Any], *, capacity: int) -> str:
    fields = {k: v for k, v in kind.items() if k != "sessions"}
    event = create_event(
        stack, key, ref=ref, max_subscriptions=capacity, waiting_list=True, **fields
    )
    if kind.get("sessions"):
        response = stack.client.post(
            f"/v1/events/{ref}/sessions",
            json={
                "name": "Lab",
                "capacity": capacity,
                "starts_at": "14:00",
                "duration_minutes": 30,
            },
            headers=stack.auth(key),
        )
        assert response.status_code == 201, response.text
    response = stack.client.post(f"/v1/events/{ref}/publish", headers=stack.auth(key))
    assert response.status_code == 200, response.text
    return str(event["id"])


def _entry(stack: Stack, token: str, event_id: str) -> dict[str, Any]:
    """The attendee's entry of the event's first date."""
    entries = calendar(stack, token, first=100).json()["entries"]
    mine = [entry for entry in entries if entry["event_id"] == event_id]
    assert mine, entries
    return dict(mine[0])


def _cta(entry: dict[str, Any], action: str) -> dict[str, Any]:
    found = [cta for cta in entry["ctas"] if cta["action"] == action]
    assert found, (action, entry["ctas"])
    return dict(found[0])


class Follower:
    """Sends a CTA exactly as it reads, with the credential its scope names."""

    def __init__(self, stack: Stack, token: str) -> None:
        self.stack = stack
        self.token = token
        self.keys: dict[str, str] = {}
        self.followed: set[str] = set()

    def credential(self, scope: str) -> str:
        if scope == "AUTHENTICATED":  # the attendee's own end-user token
            return self.token
        if scope not in self.keys:  # an API key holding exactly that scope
            self.keys[scope] = self.stack.key(scopes=[scope])
        return self.keys[scope]

    def follow(self, cta: dict[str, Any]) -> httpx.Response:
        self.followed.add(cta["action"])
        credential = self.credential(cta["scope"])
        body = {} if cta["body"] is None else {"json": cta["body"]}
        response = self.stack.client.request(
            cta["method"], cta["href"], headers=self.stack.auth(credential), **body
        )
        return response

    def follow_job(self, cta: dict[str, Any]) -> dict[str, Any]:
        """Follow a CTA that answers with a job; the job must succeed."""
        response = self.follow(cta)
        assert response.status_code == 202, (cta, response.status_code, response.text)
        location = response.headers["Location"]
        credential = self.credential(cta["scope"])
        seen = self.stack.client.get(location, headers=self.stack.auth(credential))
        assert seen.status_code == 200, (location, seen.text)
        self.stack.drain()
        done = self.stack.client.get(location, headers=self.stack.auth(credential))
        assert done.status_code == 200, done.text
        job = done.json()
        assert job["status"] == "succeeded", job
        return dict(job)


def _status_of(stack: Stack, key: str, event_id: str, ref: str) -> list[str]:
    response = stack.client.get(f"/v1/events/{event_id}/enrollments", headers=stack.auth(key))
    assert response.status_code == 200, response.text
    return [item["status"] for item in response.json()["items"] if item["attendee_ref"] == ref]


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_cta_followed_literally_does_what_it_says(real_stack: Stack, kind: str) -> None:
    stack = real_stack
    key = stack.key()
    make_attendee(stack, "ada")
    make_attendee(stack, "bob")
    token = issue_token(stack, key, "ada")
    follower = Follower(stack, token)
    roomy = _event(stack, key, f"{kind}-roomy", KINDS[kind], capacity=5)
    full = _event(stack, key, f"{kind}-full", KINDS[kind], capacity=1)

    # Given a date with room: REGISTER enrolls ada (for that very date on a per-date event)
    entry = _entry(stack, token, roomy)
    job = follower.follow_job(_cta(entry, "REGISTER"))
    assert job["result"]["attendee_ref"] == "ada"
    assert job["result"]["status"] == "enrolled"
    entry = _entry(stack, token, roomy)
    assert (entry["personal"], entry["enrollment_status"]) == (True, "enrolled")
    assert _status_of(stack, key, roomy, "ada") == ["enrolled"]

    # TOGGLE_BOOKMARK bookmarks the entry
    toggled = follower.follow(_cta(entry, "TOGGLE_BOOKMARK"))
    assert toggled.status_code == 200, toggled.text
    assert toggled.json()["bookmarked"] is True
    assert _entry(stack, token, roomy)["bookmarked"] is True

    # CANCEL_REGISTRATION cancels it, and REGISTER is offered again
    entry = _entry(stack, token, roomy)
    job = follower.follow_job(_cta(entry, "CANCEL_REGISTRATION"))
    assert job["result"]["status"] == "cancelled"
    assert _status_of(stack, key, roomy, "ada") == ["cancelled"]
    entry = _entry(stack, token, roomy)
    assert entry["enrollment_status"] is None
    assert "REGISTER" in [cta["action"] for cta in entry["ctas"]]

    # Given a full date with a waiting list: JOIN_WAITING_LIST waitlists ada
    entry = _entry(stack, token, full)
    occupy = dict(_cta(entry, "REGISTER"))
    occupy["body"] = {**occupy["body"], "attendee": {"ref": "bob", "email": "bob@example.org"}}
    occupy["scope"] = "students:write"  # the upstream system seats bob through its API key
    assert follower.follow_job(occupy)["result"]["status"] == "enrolled"
    entry = _entry(stack, token, full)
    job = follower.follow_job(_cta(entry, "JOIN_WAITING_LIST"))
    assert job["result"]["status"] == "waitlisted"
    entry = _entry(stack, token, full)
    assert entry["enrollment_status"] == "waitlisted"

    # And CANCEL_REGISTRATION gives up the place
    job = follower.follow_job(_cta(entry, "CANCEL_REGISTRATION"))
    assert job["result"]["status"] == "cancelled"
    assert _status_of(stack, key, full, "ada") == ["cancelled"]

    # Every action the policy can emit was followed
    assert follower.followed == set(CTA_ACTIONS)
