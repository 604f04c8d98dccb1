"""A worker killed with SIGKILL mid-batch loses nothing and doubles nothing:
its unacknowledged messages are redelivered to another worker, and every job
is applied exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from domain.clock import utcnow
from models import EmailMessage, Enrollment, Job, Payment
from tests.support.factories import published_event
from tests.support.services import stop_process_group
from tests.support.stack import Stack
from workers.outbox import relay

pytestmark = pytest.mark.slow

JOBS = 150
EVENTS = 15


def start_worker(stack: Stack, log: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=stack.settings.database_url,
        REDIS_URL=stack.settings.redis_url,
        REDIS_NAMESPACE=stack.settings.redis_namespace,
        SMTP_URL=stack.settings.smtp_url,
        BROKER_HEARTBEAT_TIMEOUT_MS="2000",
        BROKER_MAINTENANCE_CHANCE="100000",
    )
    return subprocess.Popen(
        [sys.executable, "-m", "dramatiq", "workers.actors", "--processes", "1", "--threads", "4"],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        # Its own process group: the SIGKILL must reach the forked worker
        # process that holds the messages, not only the dramatiq supervisor.
        start_new_session=True,
    )


def mails(stack: Stack) -> int:
    with stack.db() as session:
        return int(session.scalar(select(func.count()).select_from(EmailMessage)) or 0)


def finished(stack: Stack) -> int:
    with stack.db() as session:
        return int(
            session.scalar(select(func.count()).select_from(Job).where(Job.status == "succeeded"))
            or 0
        )


def test_sigkilled_worker_loses_and_doubles_nothing(real_stack: Stack, tmp_path: Path) -> None:
    # Given many enroll jobs on the queue and no in-process worker
    real_stack.stop()
    key = real_stack.key()
    # (over several events: a worker applies one event's queued jobs as one
    # group, so with a single event the kill could only land before or after)
    for n in range(EVENTS):
        published_event(real_stack, key, ref=f"crash{n}")
    for n in range(JOBS):
        response = real_stack.client.post(
            f"/v1/events/crash{n % EVENTS}/enrollments",
            json={"attendee": {"ref": f"a{n}", "email": f"a{n}@example.org"}},
            headers=real_stack.auth(key),
        )
        assert response.status_code == 202

    # When a worker process is killed with SIGKILL while it works through them
    log = tmp_path / "worker.log"
    first = start_worker(real_stack, log)
    deadline = time.monotonic() + 60
    while finished(real_stack) == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    done_at_kill = finished(real_stack)
    assert 0 < done_at_kill < JOBS, "the kill must land mid-batch to prove anything"

    # And another worker takes over, with the scheduler's outbox relay handing
    # over what the killed one committed but never sent (its mail messages)
    second = start_worker(real_stack, log)
    try:
        deadline = time.monotonic() + 120
        while finished(real_stack) < JOBS and time.monotonic() < deadline:
            time.sleep(0.2)
        while mails(real_stack) < JOBS and time.monotonic() < deadline:
            relay(real_stack.sessions, real_stack.broker, now=utcnow(), older_than_seconds=0)
            time.sleep(0.2)
    finally:
        stop_process_group(second)

    # Then every job succeeded once: one enrollment, one payment, one mail row per attendee
    with real_stack.db() as session:
        statuses = session.scalars(select(Job.status)).all()
        assert statuses.count("succeeded") == JOBS, log.read_text()[-3000:]
        assert session.scalar(select(func.count()).select_from(Enrollment)) == JOBS
        assert session.scalar(select(func.count()).select_from(Payment)) == JOBS
        assert session.scalar(select(func.count()).select_from(EmailMessage)) == JOBS
        assert session.scalar(select(func.count(func.distinct(EmailMessage.to_address)))) == JOBS
        assert (
            session.scalar(
                select(func.count(func.distinct(Enrollment.attendee_id))).select_from(Enrollment)
            )
            == JOBS
        )
