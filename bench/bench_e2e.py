"""POST to mail (issue 19 goal 4): the time from ``POST /v1/events/{id}/enrollments``
(through uvicorn, as ``rollcall api`` serves it) to the confirmation's arrival
in a real SMTP sink, at ``BENCH_E2E_RATE`` (50) requests/s for
``BENCH_E2E_SECONDS`` (30) s, open loop (each request leaves at its own time,
from a pool of client threads), with one worker process
(``rollcall.workers.actors``, ``BENCH_THREADS`` 8 threads). Baseline: a bare
Dramatiq actor (``bench/bare_mail_actor.py``, same processes and threads) that
builds the same kind of mail and sends it over its own connection, sent one
message at the same times; the time from ``send`` to the sink. The sink
(``bench/timed_sink.py``) notes each mail's arrival. Goal: p99 <= 3x.

    python -m bench bench_e2e
"""

from __future__ import annotations

import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path

import dramatiq
import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bench.enroll_load import dated_event
from bench.harness import (
    alternate,
    api_server,
    free_port,
    load_average,
    ratio_line,
    redis_server,
    scratch_database,
    service_env,
    spread,
    wait_for,
    wait_for_port,
    worker_processes,
)
from rollcall.config.settings import Settings
from rollcall.domain.access.keys import create_api_key, get_or_create_organisation
from rollcall.domain.clock import utcnow
from rollcall.domain.jobs.actor_names import SEND_PLACEMENT_MAILS
from rollcall.messaging.broker import make_broker
from rollcall.models import Attendee, EmailMessage, Enrollment, Job, OutboxMessage
from rollcall.models.db import sessions_for, transaction

RATE = float(os.environ.get("BENCH_E2E_RATE", "50"))
SECONDS = float(os.environ.get("BENCH_E2E_SECONDS", "30"))
THREADS = int(os.environ.get("BENCH_THREADS", "8"))
CLIENTS = 32
#: The bare actor's name and queue (bench/bare_mail_actor.py declares it there).
ACTOR_NAME = QUEUE = "bench_bare_mail"
TIMEOUT = 600.0
RECORDER = ("-c", "bench.timed_sink.Recorder")


@contextmanager
def timed_sink(record: Path) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}", *RECORDER, str(record)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=Path(__file__).resolve().parent.parent,
    )
    try:
        wait_for_port(port, process, "the timed SMTP sink")
        yield f"smtp://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def arrivals(record: Path) -> dict[str, float]:
    seen: dict[str, float] = {}
    for line in record.read_text().splitlines():
        stamp, address = line.split(" ", 1)
        seen.setdefault(address, float(stamp))
    return seen


def open_loop(count: int, send: Callable[[int], None]) -> dict[int, float]:
    """Call ``send(i)`` at start + i / RATE from a pool; each call's start time."""
    started: dict[int, float] = {}
    first = time.monotonic() + 0.05

    def one(i: int) -> None:
        started[i] = time.time()
        send(i)

    with ThreadPoolExecutor(CLIENTS) as pool:
        for i in range(count):
            delay = first + i / RATE - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            pool.submit(one, i)
    return started


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


#: Where a POST's time goes, in order: each stage ends at the named moment.
STAGES = (
    ("POST -> job row", "created"),
    ("job row -> its group's start", "started"),
    ("group -> mail message enqueued", "enqueued"),
    ("enqueued -> mail row (mail queue)", "mail_row"),
    ("mail row -> in the sink", "arrived"),
)


def _enqueued(session: Session) -> dict[str, float]:
    """When each enrollment's placement mail message was enqueued (its outbox
    row's ``sent_at``), by enrollment id."""
    rows = session.execute(
        select(OutboxMessage.args, OutboxMessage.sent_at).where(
            OutboxMessage.actor == SEND_PLACEMENT_MAILS, OutboxMessage.sent_at.is_not(None)
        )
    )
    return {str(item[0]): sent_at.timestamp() for args, sent_at in rows for item in args[0]}


def stages(
    factory: sessionmaker[Session],
    addresses: list[str],
    started: dict[int, float],
    seen: dict[str, float],
) -> dict[str, list[float]]:
    """Each Rollcall mail's time in each stage (s), from the job's, the outbox
    row's and the mail's own timestamps, the POST's start and the sink's arrival."""
    with factory() as session:
        rows = session.execute(
            select(
                EmailMessage.to_address,
                Enrollment.id.label("enrollment_id"),
                Job.created_at,
                Job.started_at,
                EmailMessage.created_at.label("mail_row"),
            )
            .join(Attendee, Attendee.ref == EmailMessage.to_address)
            .join(Enrollment, Enrollment.attendee_id == Attendee.id)
            .join(Job, Job.id == Enrollment.job_id)
            .where(EmailMessage.to_address.in_(addresses))
        ).all()
        enqueued = _enqueued(session)
    moments = {row.to_address: row for row in rows}
    spent: dict[str, list[float]] = {name: [] for name, _ in STAGES}
    for i, address in enumerate(addresses):
        row = moments[address]
        at = {
            "created": row.created_at.timestamp(),
            "started": row.started_at.timestamp(),
            "enqueued": enqueued[str(row.enrollment_id)],
            "mail_row": row.mail_row.timestamp(),
            "arrived": seen[address],
        }
        before = started[i]
        for name, moment in STAGES:
            spent[name].append(at[moment] - before)
            before = at[moment]
    return spent


def side(
    record: Path,
    count: int,
    send: Callable[[str], object],
    results: list[tuple[float, float]],
    breakdown: Callable[[list[str], dict[int, float], dict[str, float]], None] | None = None,
) -> Callable[[], float]:
    """One round: ``count`` mails addressed ``<round>-<i>@example.org``; p99 (s)."""

    def run() -> float:
        tag = uuid.uuid4().hex[:8]
        addresses = [f"{tag}-{i}@example.org" for i in range(count)]
        started = open_loop(count, lambda i: send(addresses[i]))
        wait_for(
            lambda: all(a in arrivals(record) for a in addresses),
            timeout=TIMEOUT,
            what="the mails in the sink",
        )
        seen = arrivals(record)
        latencies = [seen[addresses[i]] - started[i] for i in range(count)]
        p50, p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
        results.append((p50, p99))
        if breakdown is not None:
            breakdown(addresses, started, seen)
        return p99

    return run


def bare_actor(env: dict[str, str]) -> dramatiq.Actor[[str], None]:
    """The baseline's actor, declared on a broker of the bare worker's settings."""
    settings = Settings(
        database_url=env["DATABASE_URL"],
        redis_url=env["REDIS_URL"],
        redis_namespace=env["REDIS_NAMESPACE"],
    )
    return dramatiq.actor(
        lambda to_address: None,
        broker=make_broker(settings),
        queue_name=QUEUE,
        actor_name=ACTOR_NAME,
    )


def main() -> None:
    logging.getLogger("httpx").setLevel(logging.WARNING)
    print(load_average())
    count = max(1, int(RATE * SECONDS))
    with ExitStack() as stack:
        url = stack.enter_context(scratch_database("e2e"))
        redis_url = stack.enter_context(redis_server())
        workdir = Path(tempfile.mkdtemp(prefix="bench-e2e-"))
        record = workdir / "arrivals.txt"
        record.touch()
        smtp_url = stack.enter_context(timed_sink(record))
        env = service_env(url, redis_url, smtp_url)
        bare_env = service_env(url, redis_url, smtp_url)
        factory = sessions_for(url)
        with transaction(factory) as session:
            org = get_or_create_organisation(session, name="bench-e2e", now=utcnow())
            _key, plaintext = create_api_key(
                session, organisation=org, scopes=["students:write"], now=utcnow()
            )
            event_id = dated_event(session, org.id, "E2E", 1_000_000)
        (workdir / "page.json").write_text("{}")
        port = stack.enter_context(api_server(env, workdir, workdir / "page.json"))
        stack.enter_context(
            worker_processes(
                "rollcall.workers.actors",
                env,
                processes=1,
                threads=THREADS,
                log=workdir / "worker.log",
            )
        )
        stack.enter_context(
            worker_processes(
                "bench.bare_mail_actor",
                bare_env,
                processes=1,
                threads=THREADS,
                log=workdir / "bare.log",
            )
        )
        client = stack.enter_context(
            httpx.Client(
                base_url=f"http://127.0.0.1:{port}",
                headers={"Authorization": f"Bearer {plaintext}"},
                timeout=60,
                limits=httpx.Limits(max_connections=CLIENTS),
            )
        )
        send_one = bare_actor(bare_env)

        def post(address: str) -> None:
            response = client.post(
                f"/v1/events/{event_id}/enrollments",
                json={"attendee": {"ref": address, "email": address, "name": "E2E"}},
            )
            response.raise_for_status()

        ours: list[tuple[float, float]] = []
        bare: list[tuple[float, float]] = []
        spent: list[dict[str, list[float]]] = []
        times = alternate(
            {
                "bare": side(record, count, lambda a: send_one.send(a), bare),
                "rollcall": side(
                    record,
                    count,
                    post,
                    ours,
                    lambda *seen: spent.append(stages(factory, *seen)),
                ),
            }
        )
        print(f"POST to mail: {count} requests at {RATE:g}/s, 1 worker process x {THREADS} threads")
        for name, rows in (("bare actor", bare[1:]), ("rollcall", ours[1:])):
            print(
                f"  {name:<10}: p50 {spread([r[0] * 1000 for r in rows])} ms;"
                f" p99 {spread([r[1] * 1000 for r in rows])} ms"
            )
        print(ratio_line("  p99 rollcall / bare actor", times["rollcall"], times["bare"], "<= 3x"))
        p50s = [o[0] / b[0] for o, b in zip(ours[1:], bare[1:], strict=True)]
        print(f"  p50 rollcall / bare actor: median {statistics.median(p50s):.2f}x")
        print("  where Rollcall's time goes (ms, each stage's p50 / p99, the timed rounds pooled):")
        for name, _ in STAGES:
            pooled = [1000 * s for round_ in spent[1:] for s in round_[name]]
            print(
                f"    {name:<32} p50 {percentile(pooled, 0.5):8.1f}"
                f"  p99 {percentile(pooled, 0.99):8.1f}"
            )
        print(f"logs: {workdir}")
    print(load_average())


if __name__ == "__main__":
    main()
