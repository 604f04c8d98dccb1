"""A returning attendee whose details changed, through each enrollment path.

The same scenario runs on SQLite (unit) and on PostgreSQL with real Redis and
worker (integration): the attendee first enrolls with one set of details,
then enrolls into a second event with new ones, by a single enroll job, a
JSON bulk job or a CSV bulk job.
"""

from __future__ import annotations

import time
from typing import Any

from tests.support.factories import job, published_event
from tests.support.stack import Stack

PATHS = ("single", "bulk_json", "bulk_csv")
BEFORE = {
    "ref": "ada",
    "email": "ada@example.org",
    "name": "Ada",
    "timezone": "Europe/Amsterdam",
    "locale": "nl",
}
AFTER = {
    "ref": "ada",
    "email": "ada.lovelace@example.com",
    "name": "Ada Lovelace",
    "timezone": "America/New_York",
    "locale": "en-US",
}
FIELDS = ("email", "name", "timezone", "locale")


def post_enroll(stack: Stack, key: str, event: str, path: str, person: dict[str, Any]) -> str:
    """Enroll ``person`` (next to a newcomer on the bulk paths); the job id."""
    auth = stack.auth(key)
    if path == "single":
        response = stack.client.post(
            f"/v1/events/{event}/enrollments", json={"attendee": person}, headers=auth
        )
    elif path == "bulk_json":
        newcomer = {"ref": "bob", "email": "bob@example.org", "name": "Bob"}
        response = stack.client.post(
            f"/v1/events/{event}/enrollments/bulk",
            json={"atomic": True, "attendees": [newcomer, person]},
            headers=auth,
        )
    else:
        columns = ("ref", *FIELDS)
        lines = [",".join(columns), "bob,bob@example.org,Bob,,"]
        lines.append(",".join(str(person.get(column) or "") for column in columns))
        response = stack.client.post(
            f"/v1/events/{event}/enrollments/bulk?atomic=false",
            content="\n".join(lines) + "\n",
            headers=auth | {"Content-Type": "text/csv"},
        )
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


def finished_job(stack: Stack, key: str, job_id: str) -> dict[str, Any]:
    """The job once it is final. Waits on the job itself, not on the queues: a
    job that crashes is retried with backoff, and the test must fail on it."""
    deadline = time.monotonic() + 60
    while True:
        shown = job(stack, key, job_id)
        if shown["status"] not in ("queued", "running") or time.monotonic() > deadline:
            return shown
        time.sleep(0.05)


def stored_attendee(stack: Stack, key: str, ref: str) -> dict[str, Any]:
    response = stack.client.get(f"/v1/attendees/{ref}/enrollments", headers=stack.auth(key))
    assert response.status_code == 200, response.text
    return dict(response.json())


def enroll_returning(stack: Stack, path: str, changed: dict[str, Any]) -> dict[str, Any]:
    """Ada enrolls in "first" with BEFORE, then in "second" by ``path`` with
    ``changed`` over BEFORE. Returns the second job, finished."""
    key = stack.extra.setdefault("key", stack.key())
    published_event(stack, key, ref="first", max_subscriptions=5)
    published_event(stack, key, ref="second", max_subscriptions=5)
    first = post_enroll(stack, key, "first", "single", BEFORE)
    assert finished_job(stack, key, first)["status"] == "succeeded"
    return finished_job(stack, key, post_enroll(stack, key, "second", path, BEFORE | changed))


def confirmations_to(stack: Stack, count: int) -> list[tuple[str, str]]:
    """(address, greeting line) of the confirmation mails, once ``count`` arrived."""
    mails = stack.sink.wait_for(count)
    return sorted(
        (
            mail["To"].addresses[0].addr_spec,
            mail.get_body(preferencelist=("plain",)).get_content().splitlines()[0],
        )
        for mail in mails
    )
