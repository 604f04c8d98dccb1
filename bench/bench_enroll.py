"""Enrollment on PostgreSQL + Redis, the whole effect a user relies on, as
ratios against the strongest plain way, sides alternating (bench.harness).

1. **Single enroll.** ``BENCH_JOBS`` enroll jobs spread over ``BENCH_EVENTS``
   dated events (so the calendar cache is refreshed), arriving while the
   worker runs: the intake's own ``dispatch`` sends them in chunks of
   ``BENCH_CHUNK``, interleaved over the events. Timed until every job is
   applied AND every confirmation or waiting-list mail is sent to a real SMTP
   sink. The worker is ``rollcall worker``'s own command (``BENCH_PROCESSES``
   processes of ``BENCH_THREADS`` threads, every queue, INFO logs as JSON
   lines). Baseline: a no-op actor on the same queues, with the same
   processes and threads, sent the same number of messages in the same
   chunks, timed until drained. Goal (issue 19): >= 0.5.
2. **Atomic bulk.** One bulk job of ``BENCH_BULK_ROWS`` attendees into a
   dated event, through the same worker, timed until the job is applied and
   every mail is sent. Baseline: binary COPY of the same enrollment, payment
   and mail rows, then the same number of mails, serialised beforehand, over
   one SMTP connection to the same sink, and the mail rows marked sent.
   Goal (issue 19): <= 1.5x.

    python -m bench bench_enroll
    BENCH_JOBS=2000 BENCH_PROCESSES=2 python -m bench bench_enroll

Runs in a scratch database it creates and drops; Redis from BENCH_REDIS_URL
or TEST_REDIS_URL, else a private one. Worker logs go to a temporary file.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import aiosmtplib
import dramatiq
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from bench.enroll_load import (
    CHUNK,
    TIMEOUT,
    dated_event,
    done,
    noop_side,
    organisation,
    record_enrolls,
)
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
from rollcall.domain.jobs.engine import submit_job
from rollcall.domain.jobs.outbox import take_pending
from rollcall.messaging.broker import make_broker
from rollcall.messaging.outbox import dispatch
from rollcall.models import Attendee, EmailMessage, Enrollment, Payment
from rollcall.models.bulk_insert import copy_rows
from rollcall.models.db import sessions_for, transaction
from rollcall.workers.mail_delivery import Claimed, compose
from rollcall.workers.smtp import flatten

JOBS = int(os.environ.get("BENCH_JOBS", "1000"))
EVENTS = int(os.environ.get("BENCH_EVENTS", "10"))
PROCESSES = int(os.environ.get("BENCH_PROCESSES", "1"))
THREADS = int(os.environ.get("BENCH_THREADS", "8"))
BULK_ROWS = int(os.environ.get("BENCH_BULK_ROWS", "10000"))


@contextmanager
def _services() -> Iterator[tuple[str, str, str, Path]]:
    with ExitStack() as stack:
        url = stack.enter_context(scratch_database("enroll"))
        redis_url = stack.enter_context(redis_server())
        smtp_url = stack.enter_context(smtp_sink())
        logs = Path(tempfile.mkdtemp(prefix="bench-enroll-"))
        yield url, redis_url, smtp_url, logs


def bench_single(url: str, env: dict[str, str], noop_env: dict[str, str]) -> None:
    factory = sessions_for(url)
    settings = Settings(
        database_url=url, redis_url=env["REDIS_URL"], redis_namespace=env["REDIS_NAMESPACE"]
    )
    broker = make_broker(settings)

    def single(jobs: int) -> float:
        org_id = organisation(factory)
        seats = max(1, jobs // EVENTS // 2)
        outbox = record_enrolls(factory, org_id, jobs=jobs, events=EVENTS, seats=seats)
        started = time.perf_counter()
        for first in range(0, len(outbox), CHUNK):
            dispatch(factory, broker, outbox[first : first + CHUNK], now=utcnow())
        wait_for(done(factory, org_id, jobs, jobs), timeout=TIMEOUT, what="the enroll jobs")
        return time.perf_counter() - started

    times = alternate({"no-op": noop_side(noop_env, JOBS), "enroll": lambda: single(JOBS)})
    print(
        f"single enroll: {JOBS} jobs over {EVENTS} dated events, chunks of {CHUNK}, "
        f"{PROCESSES} process(es) x {THREADS} threads, mails sent"
    )
    for side, unit in (("no-op", "msg/s"), ("enroll", "jobs/s")):
        best = JOBS / min(times[side])
        print(f"  {side:<7}: {spread(times[side])} s  ({best:.0f} {unit} at best)")
    # Throughput ratio: enroll jobs/s over no-op msg/s, i.e. no-op time over enroll time.
    print(ratio_line("  enroll / no-op throughput", times["no-op"], times["enroll"], ">= 0.5"))


def _people(
    factory: sessionmaker[Session], org_id: uuid.UUID, prefix: str, count: int
) -> list[dict[str, Any]]:
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
    with transaction(factory) as session:
        copy_rows(session.connection(), Attendee, rows)
    return rows


def _bulk_side(url: str, broker: dramatiq.Broker, rows: int) -> float:
    factory = sessions_for(url)
    org_id = organisation(factory)
    with transaction(factory) as session:
        event_id = dated_event(session, org_id, "Atomic bulk", rows)
    people = _people(factory, org_id, "b", rows)
    with transaction(factory) as session:
        submit_job(
            session,
            organisation_id=org_id,
            type="bulk_enroll",
            payload={
                "event_id": str(event_id),
                "atomic": True,
                "rows": [
                    {"row": i + 1, "ref": p["ref"], "email": p["email"], "name": p["name"]}
                    for i, p in enumerate(people)
                ],
                "invalid": [],
            },
            event_id=event_id,
            progress_total=rows,
            now=utcnow(),
        )
        outbox = take_pending(session)
    started = time.perf_counter()
    dispatch(factory, broker, outbox, now=utcnow())
    wait_for(done(factory, org_id, 1, rows), timeout=TIMEOUT, what="the bulk job")
    return time.perf_counter() - started


def _plain_side(url: str, smtp_url: str, settings: Settings, rows: int) -> float:
    """COPY the same enrollment, payment and mail rows, then send the same
    mails, serialised beforehand, over one connection, and mark them sent."""
    factory = sessions_for(url)
    org_id = organisation(factory)
    with transaction(factory) as session:
        event_id = dated_event(session, org_id, "Plain COPY", rows)
    people = _people(factory, org_id, "p", rows)
    now = utcnow()
    # The mail as bytes, composed from a real confirmation the worker wrote in
    # the bulk side's warm-up (not timed); every plain row carries its context.
    sample_context, sample = _sample_mail(factory, settings)
    enrollments, payments, mails, messages = [], [], [], []
    for i, person in enumerate(people):
        enrollment_id, mail_id = uuid.uuid4(), uuid.uuid4()
        common = {"organisation_id": org_id, "event_id": event_id, "attendee_id": person["id"]}
        enrollments.append(
            {
                "id": enrollment_id,
                **common,
                "scope_key": "event",
                "status": "enrolled",
                "requested_at": now,
                "request_seq": i,
                "enrolled_at": now,
                "created_at": now,
                "updated_at": now,
            }
        )
        payments.append(
            {
                "id": uuid.uuid4(),
                **common,
                "enrollment_id": enrollment_id,
                "state": "manual_enrolled",
                "amount": 0,
                "created_at": now,
            }
        )
        mails.append(
            {
                "id": mail_id,
                "organisation_id": org_id,
                "event_id": event_id,
                "attendee_id": person["id"],
                "template": "enrollment_confirmed",
                "context": sample_context,
                "to_address": person["email"],
                "to_name": person["name"],
                "state": "queued",
                "attempts": 0,
                "dedupe_key": f"placement:{enrollment_id}",
                "message_id": f"<{mail_id}@bench>",
                "order_key": i,
                "created_at": now,
                "updated_at": now,
            }
        )
    for person in people:
        messages.append(sample.__class__(sample.sender, (person["email"],), sample.data))
    started = time.perf_counter()
    with transaction(factory) as session:
        conn = session.connection()
        copy_rows(conn, Enrollment, enrollments)
        copy_rows(conn, Payment, payments)
        copy_rows(conn, EmailMessage, mails)
    asyncio.run(_send_all(smtp_url, messages))
    with transaction(factory) as session:
        session.execute(
            update(EmailMessage)
            .where(EmailMessage.organisation_id == org_id)
            .values(state="sent", sent_at=utcnow(), updated_at=utcnow())
        )
    return time.perf_counter() - started


def _sample_mail(factory: sessionmaker[Session], settings: Settings) -> tuple[dict[str, Any], Any]:
    """One confirmation the worker wrote (it names its job), its context and
    the message composed and flattened."""
    with factory() as session:
        row = session.scalars(
            select(EmailMessage)
            .where(
                EmailMessage.template == "enrollment_confirmed", EmailMessage.job_id.is_not(None)
            )
            .limit(1)
        ).one()
        claimed = Claimed(
            id=row.id,
            organisation_id=row.organisation_id,
            template=row.template,
            context=dict(row.context),
            to_address=row.to_address,
            to_name=row.to_name,
            message_id=row.message_id or f"<{row.id}@bench>",
            attempts=1,
        )
    return dict(row.context), flatten(compose(settings, claimed, now=utcnow()))


async def _send_all(smtp_url: str, messages: list[Any]) -> None:
    host, port = smtp_url.removeprefix("smtp://").split(":")
    client = aiosmtplib.SMTP(hostname=host, port=int(port), timeout=60)
    await client.connect()
    for message in messages:
        await client.sendmail(message.sender, list(message.recipients), message.data)
    await client.quit()


def bench_bulk(url: str, env: dict[str, str], smtp_url: str) -> None:
    settings = Settings(
        database_url=url,
        redis_url=env["REDIS_URL"],
        redis_namespace=env["REDIS_NAMESPACE"],
        smtp_url=smtp_url,
    )
    broker = make_broker(settings)
    times = alternate(
        {
            # The bulk side warms up first: the plain side sends its mail's bytes.
            "bulk": lambda: _bulk_side(url, broker, BULK_ROWS),
            "plain": lambda: _plain_side(url, smtp_url, settings, BULK_ROWS),
        }
    )
    print(f"atomic bulk of {BULK_ROWS} into a dated event, mails sent")
    print(f"  COPY + pre-serialised mail: {spread(times['plain'])} s")
    print(f"  bulk job                  : {spread(times['bulk'])} s")
    print(ratio_line("  bulk / plain", times["bulk"], times["plain"], "<= 1.5x"))


def main() -> None:
    print(load_average())
    with _services() as (url, redis_url, smtp_url, logs):
        env = service_env(url, redis_url, smtp_url)
        noop_env = service_env(url, redis_url, smtp_url)
        with (
            worker_processes(
                "rollcall.workers.actors",
                env,
                processes=PROCESSES,
                threads=THREADS,
                log=logs / "worker.log",
            ),
            worker_processes(
                "bench.noop_actors",
                noop_env,
                processes=PROCESSES,
                threads=THREADS,
                log=logs / "noop.log",
            ),
        ):
            bench_single(url, env, noop_env)
            bench_bulk(url, env, smtp_url)
        print(f"worker log: {logs / 'worker.log'}")
    print(load_average())


if __name__ == "__main__":
    main()
