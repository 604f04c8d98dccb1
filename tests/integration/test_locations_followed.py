"""Every URL the API hands out can be followed with the credential that got it.

Each route answering 202 hands out ``Location: /v1/jobs/{id}``. A caller may
always read the jobs it created, whatever its scopes: a ``students:write``
key that enrolls, an ``events:write`` key that cancels, an attendee's own
end-user token that registers. The table below must name every 202 route of
the app, so a new one is followed here too (over real HTTP, PostgreSQL, Redis).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rollcall.intake.app import create_app
from tests.support.calendar import issue_token
from tests.support.event_helpers import make_attendee
from tests.support.factories import enroll, published_event
from tests.support.http import error_of
from tests.support.stack import Stack

ADA = {"attendee": {"ref": "ada", "email": "ada@example.org"}}


@dataclass(frozen=True)
class World:
    stack: Stack
    admin: str
    event: str  # a published event with ada enrolled
    enrollment_id: str  # ada's enrollment in it
    occurrence_id: str  # its first date


#: (method, route path) -> (the scope the route needs, (method, url, request kwargs))
Request = tuple[str, dict[str, Any]]
CASES: dict[tuple[str, str], tuple[str, Callable[[World], Request]]] = {
    ("POST", "/v1/events/{event_id}/enrollments"): (
        "students:write",
        lambda w: (f"/v1/events/{w.event}/enrollments", {"json": ADA}),
    ),
    ("POST", "/v1/events/{event_id}/enrollments/bulk"): (
        "students:write",
        lambda w: (
            f"/v1/events/{w.event}/enrollments/bulk",
            {"json": {"attendees": [ADA["attendee"]]}},
        ),
    ),
    ("DELETE", "/v1/events/{event_id}/attendees/{attendee_ref}"): (
        "students:write",
        lambda w: (f"/v1/events/{w.event}/attendees/ada", {}),
    ),
    ("POST", "/v1/events/{event_id}/enrollments/{enrollment_id}/cancel"): (
        "students:write",
        lambda w: (f"/v1/events/{w.event}/enrollments/{w.enrollment_id}/cancel", {}),
    ),
    ("POST", "/v1/events/{event_id}/reminders"): (
        "events:write",
        lambda w: (f"/v1/events/{w.event}/reminders", {"json": {}}),
    ),
    ("POST", "/v1/events/{event_id}/occurrences/{occurrence_id}/cancel"): (
        "events:write",
        lambda w: (f"/v1/events/{w.event}/occurrences/{w.occurrence_id}/cancel", {}),
    ),
    ("POST", "/v1/events/{event_id}/cancel"): (
        "events:write",
        lambda w: (f"/v1/events/{w.event}/cancel", {}),
    ),
    ("POST", "/v1/events/{event_id}/enrollments/{enrollment_id}/move"): (
        "students:write",
        lambda w: (
            f"/v1/events/{w.event}/enrollments/{w.enrollment_id}/move",
            {"json": {"occurrence_id": w.occurrence_id}},
        ),
    ),
}


def _routes_answering_202(stack: Stack) -> set[tuple[str, str]]:
    """From the schema every client reads (the app's routes sit in included
    routers): the routes whose 202 is a job (a redelivered webhook's 202 is
    the delivery, with no job Location)."""
    paths = create_app(stack.settings).openapi()["paths"]
    return {
        (method.upper(), path)
        for path, operations in paths.items()
        for method, operation in operations.items()
        if "JobOut" in str(operation.get("responses", {}).get("202", {}))
    }


def _world(stack: Stack, ref: str) -> World:
    admin = stack.key()
    event = published_event(
        stack,
        admin,
        ref=ref,
        max_subscriptions=5,
        dates=[
            {"starts_at": "2031-06-01T09:00:00Z", "ends_at": "2031-06-01T10:00:00Z"},
            {"starts_at": "2031-06-08T09:00:00Z", "ends_at": "2031-06-08T10:00:00Z"},
        ],
    )
    enroll(stack, admin, ref, "ada")
    stack.drain()
    listed = stack.client.get(f"/v1/events/{ref}/enrollments", headers=stack.auth(admin)).json()
    occurrences = stack.client.get(
        f"/v1/events/{ref}/occurrences", headers=stack.auth(admin)
    ).json()
    return World(
        stack=stack,
        admin=admin,
        event=str(event["id"]),
        enrollment_id=listed["items"][0]["id"],
        occurrence_id=occurrences["items"][0]["id"],
    )


def _follow(stack: Stack, credential: str, method: str, url: str, **kwargs: Any) -> str:
    """Send, expect 202 + Location, read the Location with the same credential."""
    response = stack.client.request(method, url, headers=stack.auth(credential), **kwargs)
    assert response.status_code == 202, (method, url, response.text)
    location = response.headers["Location"]
    seen = stack.client.get(location, headers=stack.auth(credential))
    assert seen.status_code == 200, (method, url, location, seen.text)
    assert location == f"/v1/jobs/{seen.json()['id']}" == f"/v1/jobs/{response.json()['id']}"
    return location


def test_every_location_is_readable_by_the_credential_that_got_it(real_stack: Stack) -> None:
    stack = real_stack
    # The table covers every route that hands out a job's Location
    assert _routes_answering_202(stack) == set(CASES)

    for number, ((method, _path), (scope, build)) in enumerate(sorted(CASES.items())):
        # Given a key with only the scope the route needs (no jobs:read)
        world = _world(stack, f"loc-{number}")
        key = stack.key(scopes=[scope])
        url, kwargs = build(world)
        # Then the job it created is readable with that key
        _follow(stack, key, method, url, **kwargs)


def test_an_attendee_token_reads_its_own_jobs_and_no_one_elses(real_stack: Stack) -> None:
    stack = real_stack
    world = _world(stack, "tok")
    make_attendee(stack, "bob")
    ada = issue_token(stack, world.admin, "ada")
    bob = issue_token(stack, world.admin, "bob")
    occupy = published_event(
        stack,
        world.admin,
        ref="tok-2",
        starts_at="2031-07-01T09:00:00Z",
        ends_at="2031-07-01T10:00:00Z",
    )

    # The jobs ada's token creates (register, cancel) are readable with it
    registered = _follow(
        stack,
        ada,
        "POST",
        f"/v1/events/{occupy['id']}/enrollments",
        json={"attendee": {"ref": "ada"}},
    )
    cancelled = _follow(
        stack, ada, "POST", f"/v1/events/{world.event}/enrollments/{world.enrollment_id}/cancel"
    )

    # But not with bob's token, nor with a students:write key that did not create them
    other_key = stack.key(scopes=["students:write"])
    for credential in (bob, other_key):
        for location in (registered, cancelled):
            refused = stack.client.get(location, headers=stack.auth(credential))
            assert refused.status_code == 403, refused.text
            assert error_of(refused)["code"] == "INSUFFICIENT_SCOPE"
    # While a jobs:read key of the organisation reads them all, as before
    reader = stack.key(scopes=["jobs:read"])
    for location in (registered, cancelled):
        assert stack.client.get(location, headers=stack.auth(reader)).status_code == 200
