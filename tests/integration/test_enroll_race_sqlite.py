"""No oversell on SQLite either: two dramatiq worker processes x 4 threads race
for 20 seats in one SQLite file (BEGIN IMMEDIATE serialises the writers)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from rollcall.models import Job
from tests.integration.test_enroll_race import (
    check_invariants,
    dramatiq_processes,
    enroll_payload,
    submit,
    wait_until_done,
)
from tests.support.services import RedisServer, SmtpSink
from tests.support.stack import Stack, bind_broker, configure, unique_namespace

pytestmark = pytest.mark.slow


@pytest.fixture
def sqlite_workers(
    monkeypatch: pytest.MonkeyPatch,
    sqlite_url: str,
    redis_server: RedisServer,
    smtp_sink: SmtpSink,
    tmp_path: Path,
) -> Iterator[Stack]:
    settings = configure(
        monkeypatch,
        database_url=sqlite_url,
        redis_url=redis_server.url,
        redis_namespace=unique_namespace(),
        smtp_url=smtp_sink.url,
        var_dir=str(tmp_path / "var"),
    )
    broker = bind_broker(settings)
    stack = Stack(settings=settings, broker=broker, client=None, sink=smtp_sink)  # type: ignore[arg-type]
    with dramatiq_processes(stack, processes=2, threads=4):
        yield stack
    broker.flush_all()  # type: ignore[attr-defined]
    broker.close()


def test_120_enrollments_race_for_20_seats_on_sqlite(sqlite_workers: Stack) -> None:
    stack = sqlite_workers
    # Given a 20-seat event with a waiting list, in a SQLite file
    from rollcall.domain.access.keys import get_or_create_organisation
    from rollcall.domain.clock import utcnow
    from rollcall.domain.events.catalog import create_event, publish_event

    with stack.db() as session:
        org = get_or_create_organisation(session, name="acme", now=utcnow())
        event = create_event(
            session,
            organisation_id=org.id,
            fields={"name": "SQLite race", "max_subscriptions": 20, "waiting_list": True},
            now=utcnow(),
        )
        publish_event(session, event=event, now=utcnow())
        event_id = event.id

    # When 120 enroll jobs arrive at once for 8 threads in 2 processes
    jobs = submit(stack, event_id, [enroll_payload(f"s{i:03d}") for i in range(120)])
    wait_until_done(stack, jobs)

    # Then exactly 20 are enrolled, 100 waitlisted in order, every job succeeded
    waiting = check_invariants(stack, event_id, seats=20)
    assert len(waiting) == 100
    with stack.db() as session:
        statuses = session.scalars(select(Job.status).where(Job.id.in_(map(uuid.UUID, jobs))))
        assert set(statuses) == {"succeeded"}
