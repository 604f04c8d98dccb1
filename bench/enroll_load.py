"""What the enroll benchmarks (``bench_enroll``, ``bench_spread``,
``bench_hot``, and ``bench_e2e``'s event) share. ``measure`` is the load of
``bench_spread`` and ``bench_hot``: enroll jobs recorded over
some events (untimed), then sent through the intake's own ``dispatch`` in
chunks while a ``rollcall worker``-style process runs, timed until every job
is applied and every mail is sent; against Dramatiq's no-op actor with the
same processes and threads (``bench/noop_actors.py``), sent the same number
of messages in the same chunks, timed until drained."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import dramatiq
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bench.harness import alternate, service_env, wait_for, worker_processes
from bench.noop_actors import noop_name
from rollcall.config.settings import Settings
from rollcall.domain.access.keys import get_or_create_organisation
from rollcall.domain.clock import utcnow
from rollcall.domain.events.catalog import create_event, publish_event
from rollcall.domain.jobs.engine import submit_job
from rollcall.domain.jobs.outbox import take_pending
from rollcall.messaging.broker import make_broker
from rollcall.messaging.outbox import dispatch
from rollcall.models import EmailMessage, Job
from rollcall.models.db import sessions_for, transaction

CHUNK = int(os.environ.get("BENCH_CHUNK", "20"))
TIMEOUT = 900.0


def organisation(factory: sessionmaker[Session]) -> uuid.UUID:
    with transaction(factory) as session:
        org = get_or_create_organisation(
            session, name=f"bench-{uuid.uuid4().hex[:8]}", now=utcnow()
        )
        return org.id


def dated_event(session: Session, org_id: uuid.UUID, name: str, capacity: int) -> uuid.UUID:
    """A published event with one date next month (its calendar rows are live)."""
    now = utcnow()
    starts = (now + timedelta(days=30)).replace(microsecond=0)
    event = create_event(
        session,
        organisation_id=org_id,
        fields={"name": name, "max_subscriptions": capacity, "waiting_list": True},
        dates=[(starts, starts + timedelta(hours=2))],
        now=now,
    )
    publish_event(session, event=event, now=now)
    return event.id


def done(
    factory: sessionmaker[Session], org_id: uuid.UUID, jobs: int, mails: int
) -> Callable[[], bool]:
    """Every job of the organisation applied and ``mails`` of its mails sent."""

    def check() -> bool:
        with factory() as session:
            pending = session.scalar(
                select(func.count())
                .select_from(Job)
                .where(Job.organisation_id == org_id, Job.status.in_(("queued", "running")))
            )
            applied = session.scalar(
                select(func.count()).select_from(Job).where(Job.organisation_id == org_id)
            )
            sent = session.scalar(
                select(func.count())
                .select_from(EmailMessage)
                .where(EmailMessage.organisation_id == org_id, EmailMessage.state == "sent")
            )
        return pending == 0 and applied == jobs and sent == mails

    return check


def noop_side(env: dict[str, str], count: int) -> Callable[[], float]:
    settings = Settings(
        database_url=env["DATABASE_URL"],
        redis_url=env["REDIS_URL"],
        redis_namespace=env["REDIS_NAMESPACE"],
    )
    broker = make_broker(settings)
    actor: dramatiq.Actor[..., None] = dramatiq.actor(
        lambda job_id: None, broker=broker, queue_name="jobs", actor_name=noop_name("jobs")
    )

    def run() -> float:
        started = time.perf_counter()
        for first in range(0, count, CHUNK):
            for i in range(first, min(first + CHUNK, count)):
                actor.send(str(i))
        broker.join("jobs", interval=2, timeout=int(TIMEOUT * 1000))  # type: ignore[call-arg]
        return time.perf_counter() - started

    return run


def record_enrolls(
    factory: sessionmaker[Session], org_id: uuid.UUID, *, jobs: int, events: int, seats: int
) -> list[Any]:
    """``jobs`` single enroll jobs interleaved over ``events`` dated events of
    ``seats`` seats each (the rest waitlisted); their outbox rows in order."""
    with transaction(factory) as session:
        ids = [dated_event(session, org_id, f"Load {n}", seats) for n in range(events)]
    start = utcnow()
    outbox: list[Any] = []
    with transaction(factory) as session:
        for i in range(jobs):
            event_id = ids[i % len(ids)]
            submit_job(
                session,
                organisation_id=org_id,
                type="enroll",
                payload={
                    "event_id": str(event_id),
                    "attendee": {"ref": f"l{i}", "email": f"l{i}@example.org", "name": f"L {i}"},
                },
                event_id=event_id,
                progress_total=1,
                now=start + timedelta(microseconds=i),
            )
            outbox += take_pending(session)
    return outbox


def measure(
    url: str,
    redis_url: str,
    smtp_url: str,
    logs: Path,
    *,
    jobs: int,
    events: int,
    seats: int,
    processes: int,
    threads: int,
) -> dict[str, list[float]]:
    """Seconds per round of each side: ``enroll`` and ``no-op``."""
    env = service_env(url, redis_url, smtp_url)
    noop_env = service_env(url, redis_url, smtp_url)
    factory = sessions_for(url)
    settings = Settings(
        database_url=url, redis_url=env["REDIS_URL"], redis_namespace=env["REDIS_NAMESPACE"]
    )
    broker = make_broker(settings)

    def enroll() -> float:
        org_id = organisation(factory)
        outbox = record_enrolls(factory, org_id, jobs=jobs, events=events, seats=seats)
        started = time.perf_counter()
        for first in range(0, len(outbox), CHUNK):
            dispatch(factory, broker, outbox[first : first + CHUNK], now=utcnow())
        wait_for(done(factory, org_id, jobs, jobs), timeout=TIMEOUT, what="the enroll jobs")
        return time.perf_counter() - started

    sides: dict[str, Callable[[], float]] = {"no-op": noop_side(noop_env, jobs), "enroll": enroll}
    with (
        worker_processes(
            "rollcall.workers.actors",
            env,
            processes=processes,
            threads=threads,
            log=logs / f"worker-{processes}.log",
        ),
        worker_processes(
            "bench.noop_actors",
            noop_env,
            processes=processes,
            threads=threads,
            log=logs / f"noop-{processes}.log",
        ),
    ):
        return alternate(sides)
