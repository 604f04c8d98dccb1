"""What ``bench_spread`` and ``bench_hot`` share: enroll jobs recorded over
some events (untimed), then sent through the intake's own ``dispatch`` in
chunks while a ``rollcall worker``-style process runs, timed until every job
is applied and every mail is sent; against Dramatiq's no-op actor with the
same processes and threads (``bench/noop_actors.py``), sent the same number
of messages in the same chunks, timed until drained."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from bench.bench_enroll import CHUNK, TIMEOUT, _dated_event, _done, _noop_side, _organisation
from bench.harness import alternate, service_env, wait_for, worker_processes
from rollcall.config.settings import Settings
from rollcall.domain.clock import utcnow
from rollcall.domain.jobs.engine import submit_job
from rollcall.domain.jobs.outbox import take_pending
from rollcall.messaging.broker import make_broker
from rollcall.messaging.outbox import dispatch
from rollcall.models.db import sessions_for, transaction


def record_enrolls(
    factory: sessionmaker[Session], org_id: uuid.UUID, *, jobs: int, events: int, seats: int
) -> list[Any]:
    """``jobs`` single enroll jobs interleaved over ``events`` dated events of
    ``seats`` seats each (the rest waitlisted); their outbox rows in order."""
    with transaction(factory) as session:
        ids = [_dated_event(session, org_id, f"Load {n}", seats) for n in range(events)]
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
        org_id = _organisation(factory)
        outbox = record_enrolls(factory, org_id, jobs=jobs, events=events, seats=seats)
        started = time.perf_counter()
        for first in range(0, len(outbox), CHUNK):
            dispatch(factory, broker, outbox[first : first + CHUNK], now=utcnow())
        wait_for(_done(factory, org_id, jobs, jobs), timeout=TIMEOUT, what="the enroll jobs")
        return time.perf_counter() - started

    sides: dict[str, Callable[[], float]] = {"no-op": _noop_side(noop_env, jobs), "enroll": enroll}
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
