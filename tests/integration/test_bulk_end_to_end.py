"""Bulk enrollment on real parts: PostgreSQL, Redis, a worker, the SMTP sink."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from rollcall.domain.enrollment.bulk.run import _report_progress
from rollcall.models import Attendee, EmailMessage, Enrollment, Job, Payment
from tests.support.enrollment import person
from tests.support.factories import enroll, job, published_event
from tests.support.stack import Stack


def rows_in(stack: Stack) -> tuple[int, ...]:
    with stack.db() as session:
        return tuple(
            int(session.scalar(select(func.count()).select_from(model)) or 0)
            for model in (Attendee, Enrollment, Payment, EmailMessage)
        )


def test_atomic_bulk_with_a_bad_row_in_the_middle_leaves_nothing(real_stack: Stack) -> None:
    # Given ada already enrolled (and mailed) on PostgreSQL
    key = real_stack.key()
    published_event(real_stack, key, ref="ev", max_subscriptions=500)
    enroll(real_stack, key, "ev", "ada")
    real_stack.drain()
    assert len(real_stack.sink.wait_for(1)) == 1
    before = rows_in(real_stack)

    # When 200 attendees are bulk-enrolled atomically, ada in the middle
    rows: list[dict[str, Any]] = [person(f"p{i:03d}") for i in range(200)]
    rows.insert(100, person("ada"))
    response = real_stack.client.post(
        "/v1/events/ev/enrollments/bulk",
        json={"atomic": True, "attendees": rows},
        headers=real_stack.auth(key),
    )
    assert response.status_code == 202
    real_stack.drain()

    # Then the job failed on row 101 alone, nothing is left behind and nobody got mail
    done = job(real_stack, key, response.json()["id"])
    assert done["status"] == "failed"
    assert [(e["row"], e["code"]) for e in done["errors"]] == [(101, "ALREADY_ENROLLED")]
    assert rows_in(real_stack) == before
    assert len(real_stack.sink.wait_for(2, timeout=2)) == 1


def test_atomic_bulk_shows_progress_while_it_runs(
    real_stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given chunks of 25 rows, and a probe reading the job from another connection
    monkeypatch.setattr("rollcall.domain.enrollment.bulk.run.CHUNK_ROWS", 25)
    seen: list[tuple[str, int, int]] = []
    report = _report_progress

    def probe(factory: sessionmaker[Session], job_id: uuid.UUID, done: int) -> None:
        report(factory, job_id, done)
        with factory() as session:
            row = session.get(Job, job_id)
            assert row is not None
            active = session.scalar(select(func.count()).select_from(Enrollment))
            seen.append((row.status, row.progress_done, int(active or 0)))

    monkeypatch.setattr("rollcall.domain.enrollment.bulk.run._report_progress", probe)
    key = real_stack.key()
    published_event(real_stack, key, ref="ev", max_subscriptions=60, waiting_list=True)

    # When 100 attendees are bulk-enrolled atomically
    response = real_stack.client.post(
        "/v1/events/ev/enrollments/bulk",
        json={"atomic": True, "attendees": [person(f"p{i:03d}") for i in range(100)]},
        headers=real_stack.auth(key),
    )
    real_stack.drain()

    # Then others saw done/total move while nothing was committed yet, and the end is exact
    assert seen == [("running", 25, 0), ("running", 50, 0), ("running", 75, 0)]
    done = job(real_stack, key, response.json()["id"])
    assert done["status"] == "succeeded"
    assert done["progress"] == {"done": 100, "total": 100}
    assert (done["result"]["enrolled"], done["result"]["waitlisted"]) == (60, 40)
    assert len(real_stack.sink.wait_for(100)) == 100
