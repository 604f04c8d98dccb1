"""Poison jobs fail at once with JOB_DATA_ERROR; transient errors still retry.

The jobs are recorded straight through the domain's submit function, as if
they had got past the edge's validation (SQLite and the StubBroker here; the
database-level data error on PostgreSQL is in tests/integration).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import exc as sa
from sqlalchemy.orm import Session

from rollcall.domain.jobs.engine import HANDLERS
from rollcall.models import Job
from rollcall.workers.actors import process_job
from tests.support.factories import enroll, published_event
from tests.support.poison import person, rows, submit_raw_job
from tests.support.returning import finished_job
from tests.support.stack import Stack

POISON = [
    pytest.param("enroll", {"attendee": None}, "TypeError", id="enroll-without-attendee"),
    pytest.param("enroll", {"event_id": "not-a-uuid"}, "ValueError", id="enroll-bad-event-id"),
    pytest.param("remove", {"attendee_ref": "ada", "event_id": "x"}, "ValueError", id="remove"),
    pytest.param("cancel", {"enrollment_id": "nope"}, "ValueError", id="cancel"),
    pytest.param(
        "bulk_enroll",
        {"atomic": True, "rows": [{"row": 1, "email": "no-ref@example.org"}]},
        "KeyError",
        id="bulk-atomic-row-without-ref",
    ),
    pytest.param(
        "bulk_enroll",
        {"atomic": False, "rows": [{"row": 1, "email": "no-ref@example.org"}]},
        "KeyError",
        id="bulk-chunked-row-without-ref",
    ),
]


@pytest.mark.parametrize(("job_type", "payload", "cause"), POISON)
def test_a_poison_job_fails_at_once_and_its_neighbour_succeeds(
    unit_stack: Stack, job_type: str, payload: dict[str, Any], cause: str
) -> None:
    # Given a published event, a job whose payload cannot be applied, and a good job
    key = unit_stack.key()
    published_event(unit_stack, key, ref="ev", max_subscriptions=5)
    poison = submit_raw_job(unit_stack, "ev", job_type, payload)
    good = enroll(unit_stack, key, "ev", "bob")["id"]

    # When the worker takes them
    shown = finished_job(unit_stack, key, poison)

    # Then the poison job failed at its first attempt, with the code and its cause
    assert (shown["status"], shown["attempts"]) == ("failed", 1), shown
    (error,) = shown["errors"]
    assert error["code"] == "JOB_DATA_ERROR"
    assert error["message"].startswith("The job's data cannot be applied")
    assert error["details"]["error"].startswith(cause)
    # ... and nothing of it waits for a retry, while the good job went through
    unit_stack.drain()
    assert finished_job(unit_stack, key, good)["status"] == "succeeded"
    assert unit_stack.broker.queues["jobs"].qsize() == 0
    assert unit_stack.broker.queues["jobs.DQ"].qsize() == 0


def test_a_chunked_bulk_job_keeps_the_chunks_before_the_poison_one(
    unit_stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given chunks of two rows, the third row unreadable
    monkeypatch.setattr("rollcall.domain.enrollment.bulk.run.CHUNK_ROWS", 2)
    key = unit_stack.key()
    published_event(unit_stack, key, ref="ev", max_subscriptions=5)
    people = rows(person("ada"), person("bob"), person("cat"))
    del people[2]["email"]
    job_id = submit_raw_job(unit_stack, "ev", "bulk_enroll", {"atomic": False, "rows": people})

    # When the worker applies it
    shown = finished_job(unit_stack, key, job_id)

    # Then the first chunk stays enrolled and the job says what stopped it
    assert (shown["status"], shown["attempts"]) == ("partially_succeeded", 1), shown
    assert (shown["result"]["enrolled"], shown["progress"]["done"]) == (2, 2)
    assert [e["code"] for e in shown["errors"]] == ["JOB_DATA_ERROR"]


@pytest.fixture
def flaky(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[datetime]]:
    """A job type whose first attempt loses its database connection."""
    attempts: list[datetime] = []

    def handler(session: Session, job: Job, now: datetime) -> dict[str, Any]:
        attempts.append(now)
        if len(attempts) == 1:
            raise sa.OperationalError("SELECT 1", {}, ConnectionResetError("lost"))
        return {"attempts_seen": len(attempts)}

    monkeypatch.setitem(HANDLERS, "flaky", handler)
    # Dramatiq's own backoff (15 s at first) is not what is under test.
    monkeypatch.setitem(process_job.options, "min_backoff", 10)
    monkeypatch.setitem(process_job.options, "max_backoff", 20)
    yield attempts


def test_a_transient_error_is_still_retried(unit_stack: Stack, flaky: list[datetime]) -> None:
    # Given a job whose first attempt loses the database connection
    key = unit_stack.key()
    published_event(unit_stack, key, ref="ev")
    job_id = submit_raw_job(unit_stack, "ev", "flaky", {})

    # When the worker takes it
    shown = finished_job(unit_stack, key, job_id)

    # Then it was retried and succeeded at the second attempt
    assert (shown["status"], shown["attempts"], shown["errors"]) == ("succeeded", 2, []), shown
    assert shown["result"] == {"attempts_seen": 2}
    assert len(flaky) == 2
