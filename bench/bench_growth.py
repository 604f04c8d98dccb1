"""Growth (issue 19 goal 5): does a single enroll, or a calendar page, get
dearer as the database fills up?

Enroll: a scratch database for each size of ``BENCH_GROWTH_SIZES``
(10,000, 100,000 and 1,000,000 past enrollments of the organisation), each
with what such a history leaves behind: the attendees,
the events, the succeeded enroll jobs, the sent confirmations and the outbox
rows done with, loaded by binary COPY (untimed), then ANALYZEd as autovacuum
would. In each, ``BENCH_GROWTH_JOBS`` (1,000) new enroll jobs over
``BENCH_GROWTH_EVENTS`` (10) fresh events of the same organisation are sent
through the intake's ``dispatch`` while a worker process of its own runs
(``BENCH_THREADS`` 8), timed until every new job is applied and its mail
sent. The sides alternate; each size's ratio is over the smallest one's, so
the lines read as a curve (goal: the largest within 1.2x).

Calendar: the same page (``first=50``, the attendee's token) served by the
app in-process (httpx over ASGI, no network) over each count of public
entries in ``BENCH_GROWTH_CAL_SIZES`` (10,000, 30,000 and 100,000; goal: ten
times the entries within 1.2x).

    python -m bench bench_growth
"""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from bench.bench_calendar import _seed as seed_calendar
from bench.enroll_load import CHUNK, TIMEOUT, dated_event, organisation, record_enrolls
from bench.harness import (
    alternate,
    load_average,
    ratio_line,
    redis_server,
    scratch_database,
    service_env,
    smtp_sink,
    spread,
    wait_for,
    worker_processes,
)
from rollcall.config.settings import Settings
from rollcall.domain.clock import utcnow
from rollcall.messaging.broker import make_broker
from rollcall.messaging.outbox import dispatch
from rollcall.models import Attendee, EmailMessage, Enrollment, Event, Job, OutboxMessage
from rollcall.models.base import new_id
from rollcall.models.bulk_insert import copy_rows
from rollcall.models.db import sessions_for, transaction


def _sizes(name: str, default: str) -> list[int]:
    return sorted({int(size) for size in os.environ.get(name, default).split(",")})


SIZES = _sizes("BENCH_GROWTH_SIZES", "10000,100000,1000000")
JOBS = int(os.environ.get("BENCH_GROWTH_JOBS", "1000"))
EVENTS = int(os.environ.get("BENCH_GROWTH_EVENTS", "10"))
THREADS = int(os.environ.get("BENCH_THREADS", "8"))
CAL_SIZES = _sizes("BENCH_GROWTH_CAL_SIZES", "10000,30000,100000")
CAL_PAGES = int(os.environ.get("BENCH_GROWTH_CAL_REQUESTS", "200"))
#: Past enrollments per past event.
PER_EVENT = 1000


def _history(factory: sessionmaker[Session], org_id: uuid.UUID, count: int) -> None:
    """``count`` past enrollments of ``org_id`` and what they left behind."""
    with transaction(factory) as session:
        events = [
            dated_event(session, org_id, f"Past {n}", PER_EVENT)
            for n in range(max(1, -(-count // PER_EVENT)))
        ]
    now = utcnow() - timedelta(days=1)
    batch = 100_000
    for first in range(0, count, batch):
        rows = range(first, min(first + batch, count))
        people = [(i, new_id(), events[i // PER_EVENT]) for i in rows]
        common = {"organisation_id": org_id, "created_at": now}
        with transaction(factory) as session:
            conn = session.connection()
            copy_rows(
                conn,
                Attendee,
                (
                    {
                        "id": person,
                        **common,
                        "ref": f"h{i}",
                        "email": f"h{i}@example.org",
                        "name": f"H {i}",
                        "updated_at": now,
                    }
                    for i, person, _ in people
                ),
            )
            copy_rows(
                conn,
                Enrollment,
                (
                    {
                        "id": new_id(),
                        **common,
                        "event_id": event,
                        "attendee_id": person,
                        "scope_key": "event",
                        "status": "enrolled",
                        "requested_at": now,
                        "request_seq": i,
                        "enrolled_at": now,
                        "updated_at": now,
                    }
                    for i, person, event in people
                ),
            )
            copy_rows(
                conn,
                Job,
                (
                    {
                        "id": new_id(),
                        **common,
                        "type": "enroll",
                        "status": "succeeded",
                        "payload": {"event_id": str(event), "attendee": {"ref": f"h{i}"}},
                        "event_id": event,
                        "progress_done": 1,
                        "progress_total": 1,
                        "errors": [],
                        "attempts": 1,
                        "finished_at": now,
                    }
                    for i, person, event in people
                ),
            )
            copy_rows(
                conn,
                EmailMessage,
                (
                    {
                        "id": new_id(),
                        **common,
                        "event_id": event,
                        "attendee_id": person,
                        "template": "enrollment_confirmed",
                        "context": {},
                        "to_address": f"h{i}@example.org",
                        "to_name": f"H {i}",
                        "state": "sent",
                        "attempts": 1,
                        "dedupe_key": f"placement:h{i}",
                        "message_id": f"<h{i}@bench>",
                        "order_key": i,
                        "sent_at": now,
                        "updated_at": now,
                    }
                    for i, person, event in people
                ),
            )
            copy_rows(
                conn,
                OutboxMessage,
                (
                    {
                        "id": new_id(),
                        "actor": "process_job",
                        "args": [str(new_id())],
                        "created_at": now,
                        "sent_at": now,
                        "attempts": 1,
                        "done_at": now,
                    }
                    for _ in people
                ),
            )
    with transaction(factory) as session:
        session.execute(text("ANALYZE"))


def _new_jobs_done(
    factory: sessionmaker[Session], event_ids: list[uuid.UUID], jobs: int
) -> Callable[[], bool]:
    """Every new job of these events applied and each of its mails sent:
    counted over the new jobs only, by indexed columns (the jobs by event,
    their mails by job), so the check costs the same whatever the history
    holds. (Counting the mails by event, which has no index, read all of
    them: at 300,000 past enrollments the check alone took 100 ms of the
    database's time, 37 times a run, and slowed the side it measured.)"""

    def check() -> bool:
        with factory() as session:
            rows = session.execute(
                select(Job.id, Job.status).where(Job.event_id.in_(event_ids))
            ).all()
            if len(rows) != jobs or any(row.status in ("queued", "running") for row in rows):
                return False
            sent = session.scalar(
                select(func.count())
                .select_from(EmailMessage)
                .where(
                    EmailMessage.job_id.in_([row.id for row in rows]),
                    EmailMessage.state == "sent",
                )
            )
        return sent == jobs

    return check


def _enroll_side(url: str, env: dict[str, str], org_id: uuid.UUID) -> Callable[[], float]:
    factory = sessions_for(url)
    settings = Settings(
        database_url=url, redis_url=env["REDIS_URL"], redis_namespace=env["REDIS_NAMESPACE"]
    )
    broker = make_broker(settings)

    def run() -> float:
        since = utcnow()
        outbox = record_enrolls(factory, org_id, jobs=JOBS, events=EVENTS, seats=JOBS)
        with factory() as session:
            event_ids = list(
                session.scalars(
                    select(Event.id).where(
                        Event.organisation_id == org_id, Event.created_at >= since
                    )
                )
            )
        started = time.perf_counter()
        for first in range(0, len(outbox), CHUNK):
            dispatch(factory, broker, outbox[first : first + CHUNK], now=utcnow())
        wait_for(_new_jobs_done(factory, event_ids, JOBS), timeout=TIMEOUT, what="new jobs")
        return time.perf_counter() - started

    return run


def _calendar_side(url: str, entries: int) -> Callable[[], float]:
    """Seconds for CAL_PAGES requests of the first page, in-process."""
    from rollcall.domain.access.attendee_tokens import create_attendee_token
    from rollcall.intake.app import create_app

    _org_id, attendee_id = seed_calendar(url, entries, 100)
    with transaction(sessions_for(url)) as session:
        attendee = session.get_one(Attendee, attendee_id)
        _token, plaintext = create_attendee_token(session, attendee=attendee, now=utcnow())
    app = create_app(Settings(database_url=url, redis_url="stub://"))
    logging.getLogger("httpx").setLevel(logging.WARNING)  # the client's own lines
    headers = {"Authorization": f"Bearer {plaintext}"}

    async def pages() -> float:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            started = time.perf_counter()
            for _ in range(CAL_PAGES):
                reply = await client.get(
                    "/v1/calendar", params={"fromDate": "2030-01-01", "first": 50}, headers=headers
                )
                reply.raise_for_status()
            return time.perf_counter() - started

    return lambda: asyncio.run(pages())


def _report(times: dict[str, list[float]], what: str, work: str, goal: str) -> None:
    """Each size's seconds, then each size's cost over the smallest one's:
    the curve, one point a line."""
    smallest, *larger = times
    for label, seconds in times.items():
        print(f"    {label:>10} {what}: {spread(seconds)} s for {work}")
    for label in larger:
        line = f"  {label} / {smallest} {what}"
        print(ratio_line(line, times[label], times[smallest], goal))


def _enroll_growth(stack: ExitStack, logs: Path) -> None:
    redis_url = stack.enter_context(redis_server())
    smtp_url = stack.enter_context(smtp_sink())
    sides: dict[str, Callable[[], float]] = {}
    for count in SIZES:
        url = stack.enter_context(scratch_database("growth"))
        factory = sessions_for(url)
        org_id = organisation(factory)
        started = time.perf_counter()
        _history(factory, org_id, count)
        print(f"  loaded {count:,} past enrollments in {time.perf_counter() - started:.1f} s")
        env = service_env(url, redis_url, smtp_url)
        stack.enter_context(
            worker_processes(
                "rollcall.workers.actors",
                env,
                processes=1,
                threads=THREADS,
                log=logs / f"worker-{count}.log",
            )
        )
        sides[f"{count:,}"] = _enroll_side(url, env, org_id)
    _report(alternate(sides), "past enrollments", f"{JOBS} jobs", "<= 1.2x at the largest")


def _calendar_growth(stack: ExitStack) -> None:
    sides: dict[str, Callable[[], float]] = {}
    for entries in CAL_SIZES:
        url = stack.enter_context(scratch_database("growth"))
        sides[f"{entries:,}"] = _calendar_side(url, entries)
    goal = "<= 1.2x at ten times the entries"
    _report(alternate(sides), "calendar entries", f"{CAL_PAGES} pages", goal)


def main() -> None:
    print(load_average())
    print(f"growth: {JOBS} new enroll jobs over {EVENTS} events, 1 process x {THREADS} threads")
    logs = Path(tempfile.mkdtemp(prefix="bench-growth-"))
    with ExitStack() as stack:
        _enroll_growth(stack, logs)
    print(f"  {load_average()}")
    print(f"growth: the calendar's first page, {CAL_PAGES} requests in-process")
    with ExitStack() as stack:
        _calendar_growth(stack)
    print(f"worker logs: {logs}")
    print(load_average())


if __name__ == "__main__":
    main()
