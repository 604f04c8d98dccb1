"""No oversell on PostgreSQL: real Dramatiq worker processes race for seats.

4 worker processes x 8 threads consume 400 enroll jobs for 50 seats; then
removals race with new enrollments. Exact counts are asserted, no timing.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from rollcall.domain.clock import utcnow
from rollcall.domain.jobs.engine import submit_job
from rollcall.domain.jobs.outbox import take_pending
from rollcall.messaging.outbox import dispatch
from rollcall.models import EmailMessage, Enrollment, Event, Job
from rollcall.models.enrollment import ACTIVE_STATUSES
from rollcall.models.jobs import FINAL_JOB_STATUSES
from tests.support.factories import published_event
from tests.support.services import stop_process_group
from tests.support.stack import Stack
from tests.support.waiting import wait_until

PROCESSES, THREADS = 4, 8
SEATS, REQUESTS = 50, 400

pytestmark = pytest.mark.slow


@contextmanager
def dramatiq_processes(
    stack: Stack, processes: int, threads: int, queues: tuple[str, ...] = ("jobs",)
) -> Iterator[Stack]:
    """`dramatiq workers.actors -p N -t M` on these queues, pointed at the stack."""
    settings = stack.settings
    env = os.environ | {
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "REDIS_NAMESPACE": settings.redis_namespace,
        "SMTP_URL": settings.smtp_url,
        "LOG_LEVEL": "WARNING",
    }
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    log = (settings.var_dir / "rollcall.workers.log").open("wb")
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "dramatiq", "rollcall.workers.actors"),
            *("--processes", str(processes), "--threads", str(threads), "--queues", *queues),
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield stack
    finally:
        stop_process_group(process)
        log.close()


@pytest.fixture
def worker_processes(real_stack: Stack) -> Iterator[Stack]:
    """Replace the in-process worker by 4 worker processes x 8 threads."""
    real_stack.stop()
    with dramatiq_processes(real_stack, PROCESSES, THREADS) as stack:
        yield stack


def event_id(stack: Stack, key: str, ref: str) -> uuid.UUID:
    event = published_event(stack, key, ref=ref, max_subscriptions=SEATS, waiting_list=True)
    return uuid.UUID(event["id"])


def submit(stack: Stack, event: uuid.UUID, jobs: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """Record jobs in arrival order (1 ms apart) and send their messages."""
    start = utcnow()
    with stack.db() as session:
        organisation_id = session.get(Event, event).organisation_id  # type: ignore[union-attr]
        ids = []
        for i, (kind, payload) in enumerate(jobs):
            job, _ = submit_job(
                session,
                organisation_id=organisation_id,
                type=kind,
                payload={"event_id": str(event), **payload},
                event_id=event,
                progress_total=1,
                now=start + timedelta(milliseconds=i),
            )
            ids.append(str(job.id))
        outbox = take_pending(session)
    dispatch(stack.sessions, stack.broker, outbox, now=utcnow())
    return ids


def wait_until_done(stack: Stack, job_ids: list[str], timeout: float = 120) -> None:
    wanted = [uuid.UUID(j) for j in job_ids]

    def all_final() -> bool:
        with stack.db() as session:
            done = session.scalar(
                select(func.count())
                .select_from(Job)
                .where(Job.id.in_(wanted), Job.status.in_(FINAL_JOB_STATUSES))
            )
        return done == len(wanted)

    wait_until(all_final, timeout=timeout, what=f"{len(wanted)} jobs finished", every=0.2)


def enroll_payload(ref: str) -> tuple[str, dict[str, Any]]:
    return "enroll", {"attendee": {"ref": ref, "email": f"{ref}@example.org", "name": ref}}


def check_invariants(stack: Stack, event: uuid.UUID, seats: int = SEATS) -> list[Enrollment]:
    """Exactly SEATS enrolled, counters equal rows, one active row per attendee,
    waiting list in arrival order; returns the waiting list."""
    with stack.db() as session:
        row = session.get(Event, event)
        assert row is not None
        active = session.scalars(
            select(Enrollment).where(
                Enrollment.event_id == event, Enrollment.status.in_(ACTIVE_STATUSES)
            )
        ).all()
        enrolled = [e for e in active if e.status == "enrolled"]
        waiting = sorted(
            (e for e in active if e.status == "waitlisted"),
            key=lambda e: (e.requested_at, e.request_seq, e.id),
        )
        assert len(enrolled) == seats
        assert (row.enrolled_count, row.waitlisted_count) == (len(enrolled), len(waiting))
        people = [e.attendee_id for e in active]
        assert len(people) == len(set(people)), "an attendee holds two active enrollments"
        # Positions shown to users are 1..n along arrival order
        from rollcall.domain.enrollment.waitlist import waitlist_position

        assert [waitlist_position(session, e) for e in waiting[:5]] == [1, 2, 3, 4, 5]
        return waiting


def test_400_enrollments_race_for_50_seats(worker_processes: Stack) -> None:
    # Given a 50-seat event with a waiting list, and 32 worker threads in 4 processes
    stack = worker_processes
    key = stack.key()
    event = event_id(stack, key, "race")

    # When 400 enroll jobs arrive at once
    refs = [f"p{i:03d}" for i in range(REQUESTS)]
    jobs = submit(stack, event, [enroll_payload(ref) for ref in refs])
    wait_until_done(stack, jobs)

    # Then exactly 50 are enrolled and 350 waitlisted in arrival order, all jobs succeeded
    waiting = check_invariants(stack, event)
    assert len(waiting) == REQUESTS - SEATS
    with stack.db() as session:
        statuses = session.scalars(select(Job.status).where(Job.event_id == event)).all()
    assert set(statuses) == {"succeeded"}


def test_removals_race_with_new_enrollments(worker_processes: Stack) -> None:
    # Given the 400-for-50 race has settled
    stack = worker_processes
    key = stack.key()
    event = event_id(stack, key, "mixed")
    refs = [f"p{i:03d}" for i in range(REQUESTS)]
    wait_until_done(stack, submit(stack, event, [enroll_payload(ref) for ref in refs]))
    with stack.db() as session:
        seated = session.scalars(select(Enrollment).where(Enrollment.status == "enrolled")).all()
        seated_refs = sorted(e.attendee.ref for e in seated)

    # When 30 seated and 30 waitlisted people are removed while 100 newcomers enroll
    rng = random.Random(4)
    leaving_seated = rng.sample(seated_refs, 30)
    leaving_waiting = rng.sample(sorted(set(refs) - set(seated_refs)), 30)
    mixed = [("remove", {"attendee_ref": ref}) for ref in leaving_seated + leaving_waiting]
    mixed += [enroll_payload(f"n{i:03d}") for i in range(100)]
    rng.shuffle(mixed)
    jobs = submit(stack, event, mixed)
    wait_until_done(stack, jobs)

    # Then still exactly 50 enrolled; each freed seat went to exactly one waitlisted
    # attendee, and to the first ones in line
    waiting = check_invariants(stack, event)
    with stack.db() as session:
        statuses = session.scalars(select(Job.status).where(Job.id.in_(map(uuid.UUID, jobs)))).all()
        assert set(statuses) == {"succeeded"}
        promoted_ids = [
            uuid.UUID(ctx["enrollment"]["id"])
            for ctx in session.scalars(
                select(EmailMessage.context).where(EmailMessage.template == "enrollment_promoted")
            )
        ]
        # A seat is freed by every removal of someone seated at that moment
        # (a waitlisted person may be promoted before their removal arrives)
        freed = session.scalar(
            select(func.count())
            .select_from(Enrollment)
            .where(
                Enrollment.event_id == event,
                Enrollment.status == "removed",
                Enrollment.enrolled_at.is_not(None),
            )
        )
        assert freed is not None and freed >= len(leaving_seated)
        assert len(promoted_ids) == len(set(promoted_ids)) == freed
        promoted = session.scalars(select(Enrollment).where(Enrollment.id.in_(promoted_ids))).all()
        last_promoted = max((e.requested_at, e.request_seq) for e in promoted)
    assert all((w.requested_at, w.request_seq) > last_promoted for w in waiting)
    assert len(waiting) == REQUESTS - SEATS - len(leaving_waiting) - len(leaving_seated) + 100
