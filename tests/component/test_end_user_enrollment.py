"""An attendee's end-user token enrolls and cancels for that attendee only."""

from __future__ import annotations

from sqlalchemy import func, select

from rollcall.models import Attendee, Job
from tests.support.calendar import issue_token
from tests.support.event_helpers import make_attendee, refused
from tests.support.factories import enroll, published_event
from tests.support.stack import Stack


def _setup(stack: Stack) -> tuple[str, str, str]:
    key = stack.key()
    published_event(
        stack,
        key,
        ref="ev",
        max_subscriptions=5,
        starts_at="2031-05-01T09:00:00Z",
        ends_at="2031-05-01T10:00:00Z",
    )
    make_attendee(stack, "ada")
    make_attendee(stack, "bob")
    return key, issue_token(stack, key, "ada"), issue_token(stack, key, "bob")


def _jobs(stack: Stack) -> int:
    with stack.db() as session:
        return int(session.scalar(select(func.count()).select_from(Job)) or 0)


def test_a_token_enrolls_its_own_attendee_as_stored(component_stack: Stack) -> None:
    stack = component_stack
    _key, ada, _bob = _setup(stack)
    response = stack.client.post(
        "/v1/events/ev/enrollments", json={"attendee": {"ref": "ada"}}, headers=stack.auth(ada)
    )
    assert response.status_code == 202, response.text
    stack.drain()
    job = stack.client.get(response.headers["Location"], headers=stack.auth(ada)).json()
    assert (job["status"], job["result"]["status"]) == ("succeeded", "enrolled")
    with stack.db() as session:
        stored = session.scalars(select(Attendee).where(Attendee.ref == "ada")).one()
        assert (stored.email, stored.name) == ("ada@example.org", "Ada")


def test_a_token_cannot_act_for_another_attendee(component_stack: Stack) -> None:
    stack = component_stack
    key, ada, bob = _setup(stack)
    before = _jobs(stack)
    # Not enroll someone else
    refused(
        stack.client.post(
            "/v1/events/ev/enrollments", json={"attendee": {"ref": "bob"}}, headers=stack.auth(ada)
        ),
        403,
        "ATTENDEE_MISMATCH",
    )
    # Not change its own attendee's details (the upstream system owns them)
    body = refused(
        stack.client.post(
            "/v1/events/ev/enrollments",
            json={"attendee": {"ref": "ada", "email": "evil@example.org"}},
            headers=stack.auth(ada),
        ),
        422,
        "VALIDATION_ERROR",
    )
    assert body["details"]["fields"] == ["email"]
    # Not cancel someone else's enrollment
    enroll(stack, key, "ev", "bob")
    stack.drain()
    bobs = stack.client.get("/v1/events/ev/enrollments", headers=stack.auth(key)).json()
    bob_enrollment = bobs["items"][0]["id"]
    refused(
        stack.client.post(
            f"/v1/events/ev/enrollments/{bob_enrollment}/cancel", headers=stack.auth(ada)
        ),
        403,
        "ATTENDEE_MISMATCH",
    )
    assert _jobs(stack) == before + 1  # only bob's enrollment by the key
    # Bob's own token may
    mine = stack.client.post(
        f"/v1/events/ev/enrollments/{bob_enrollment}/cancel", headers=stack.auth(bob)
    )
    assert mine.status_code == 202, mine.text


def test_organiser_routes_still_want_an_api_key(component_stack: Stack) -> None:
    stack = component_stack
    _key, ada, _bob = _setup(stack)
    for method, url, kwargs in (
        ("POST", "/v1/events/ev/enrollments/bulk", {"json": {"attendees": [{"ref": "ada"}]}}),
        ("DELETE", "/v1/events/ev/attendees/ada", {}),
        ("GET", "/v1/events/ev/enrollments", {}),
    ):
        response = stack.client.request(method, url, headers=stack.auth(ada), **kwargs)
        refused(response, 401, "INVALID_API_KEY")


def test_unknown_token_and_key_without_email(component_stack: Stack) -> None:
    stack = component_stack
    key, _ada, _bob = _setup(stack)
    refused(
        stack.client.post(
            "/v1/events/ev/enrollments",
            json={"attendee": {"ref": "ada"}},
            headers=stack.auth("rct_not-a-token"),
        ),
        401,
        "INVALID_TOKEN",
    )
    # The API key path is as it was: email required, as a validation error of the body
    body = refused(
        stack.client.post(
            "/v1/events/ev/enrollments", json={"attendee": {"ref": "ada"}}, headers=stack.auth(key)
        ),
        422,
        "VALIDATION_ERROR",
    )
    assert body["details"]["errors"] == [
        {"loc": ["body", "attendee", "email"], "msg": "Field required", "type": "missing"}
    ]
