"""One tenant's data cannot stop the scheduler for everyone, on real parts:
PostgreSQL, Redis, a real `rollcall scheduler` process ticking on the real
clock, a real Dramatiq worker process, the SMTP sink, /metrics and /readyz
over HTTP.

Organisation "odd" has a published event in year 1 with a reminder (moved
there straight in the database, as rows from before the edges refused such
dates are); organisation "acme" has a normal event whose reminder is due.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from rollcall.domain.clock import utcnow
from rollcall.models import ReminderRun
from tests.support.factories import published_event
from tests.support.odd_rows import move_to_year_1
from tests.support.reminders import seed_enrollments
from tests.support.services import stop_process_group
from tests.support.stack import Stack
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow


def start(stack: Stack, log: Path, *command: str) -> subprocess.Popen[bytes]:
    env = os.environ | {
        "DATABASE_URL": stack.settings.database_url,
        "REDIS_URL": stack.settings.redis_url,
        "REDIS_NAMESPACE": stack.settings.redis_namespace,
        "SMTP_URL": stack.settings.smtp_url,
        "SCHEDULER_LEADER_TTL_SECONDS": "2",
        "REMINDER_TICK_SECONDS": "2",
        "LOG_JSON": "false",
    }
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", *command],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


@pytest.fixture
def processes(real_stack: Stack) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Real processes in place of the in-process worker; stopped at the end."""
    real_stack.stop()
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        stop_process_group(process)


def scrape(stack: Stack, key: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = stack.client.get("/metrics", headers=stack.auth(key))
    assert response.status_code == 200, response.text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def skipped_rows(stack: Stack, key: str) -> float:
    metrics = scrape(stack, key)
    return metrics.get(
        ("rollcall_scheduler_rows_skipped_total", (("producer", "produce_reminders"),)), 0.0
    )


def test_a_year_1_event_beside_a_normal_one(
    real_stack: Stack, processes: list[subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    # Given a year-1 event with a reminder in one organisation ...
    odd_key, key = real_stack.key("odd"), real_stack.key("acme")
    operator = real_stack.key("platform", scopes=["ops"], operator=True)
    now = utcnow()
    starts_at = now + timedelta(minutes=30)
    ancient = published_event(
        real_stack,
        odd_key,
        ref="ancient",
        starts_at=starts_at.isoformat(),
        ends_at=(starts_at + timedelta(hours=1)).isoformat(),
        reminder_before_minutes=31,
    )
    move_to_year_1(real_stack, ancient["id"])
    # ... and in another a normal event whose reminder moment passed a minute ago
    normal = published_event(
        real_stack,
        key,
        ref="normal",
        starts_at=starts_at.isoformat(),
        ends_at=(starts_at + timedelta(hours=1)).isoformat(),
        reminder_before_minutes=31,
    )
    with real_stack.db() as session:
        seed_enrollments(
            session, normal["id"], [("ada", "Ada", "enrolled", now - timedelta(days=1), "event")]
        )

    # When a real worker process and a real scheduler process run
    log = tmp_path / "processes.log"
    processes.append(
        start(real_stack, log, "dramatiq", "rollcall.workers.actors", "-p", "1", "-t", "2")
    )
    processes.append(start(real_stack, log, "rollcall", "scheduler"))

    # Then the normal reminder arrives, before the event starts
    wait_until(lambda: real_stack.sink.messages, timeout=60, what="a mail", every=0.2, log=log)
    arrived = utcnow()
    assert arrived < starts_at
    # ... and, two reminder ticks later (each skipping the year-1 row), it is
    # still the only mail: sent once
    wait_until(
        lambda: skipped_rows(real_stack, operator) >= 2,
        timeout=60,
        what="two odd rows skipped",
        every=0.2,
        log=log,
    )
    assert [
        (m["To"].addresses[0].addr_spec, m["Subject"].startswith("Reminder"))
        for m in real_stack.sink.messages
    ] == [("ada@example.org", True)]
    with real_stack.db() as session:
        runs = session.execute(select(ReminderRun.event_id, ReminderRun.state)).all()
    assert [(str(event_id), state) for event_id, state in runs] == [(normal["id"], "done")]

    # And the bad row shows where an operator looks: /metrics and /readyz
    metrics = scrape(real_stack, operator)
    labels = (("producer", "produce_reminders"),)
    assert metrics[("rollcall_scheduler_producer_failures_total", labels)] == 0
    assert metrics[("rollcall_scheduler_last_tick_timestamp_seconds", labels)] >= now.timestamp()
    state = (("producer", "produce_reminders"), ("state", "skipping_rows"))
    assert metrics[("rollcall_scheduler_producer_state", state)] == 1
    ready = real_stack.client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["producers"]["produce_reminders"] == "skipping_rows"
    assert ready.json()["producers"]["relay_outbox"] == "ok"
