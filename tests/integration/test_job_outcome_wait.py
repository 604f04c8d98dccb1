"""Waiting for a job's outcome (messaging.job_outcomes) on real parts.

A ``dramatiq`` worker process applies the job on PostgreSQL and announces it
on Redis pub/sub after the commit; the waiter wakes on the announcement, not
by polling. A job that finished before the waiter subscribed is seen in the
row; a lost announcement (Redis gone) costs only the wait: the answer is the
row's status at the deadline.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import select

from rollcall.messaging import job_outcomes
from rollcall.models import Job
from rollcall.models.jobs import FINAL_JOB_STATUSES
from tests.support.factories import enroll, published_event
from tests.support.faults import LiveStack, PrivateRedis, WorkerProcess, wait_until
from tests.support.services import RedisServer
from tests.support.stack import Stack

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
def stack(live: LiveStack, redis_server: RedisServer) -> Iterator[Stack]:
    with live(redis_url=redis_server.url) as stack:
        yield stack


def _worker(stack: Stack, tmp_path: Path) -> WorkerProcess:
    return WorkerProcess(stack.settings, tmp_path / "worker.log")


def _queued_job(stack: Stack, ref: str = "wait") -> uuid.UUID:
    key = stack.key()
    published_event(stack, key, ref=ref, max_subscriptions=5)
    return uuid.UUID(enroll(stack, key, ref, "ada")["id"])


def _status(stack: Stack, job_id: uuid.UUID) -> str:
    with stack.db() as session:
        return str(session.scalar(select(Job.status).where(Job.id == job_id)))


def _subscribers(url: str, channel: str) -> int:
    with redis.Redis.from_url(url) as client:
        return int(dict(client.pubsub_numsub(channel)).get(channel.encode(), 0))


def _wait(stack: Stack, job_id: uuid.UUID, timeout: float) -> tuple[str | None, float]:
    started = time.monotonic()
    status = asyncio.run(
        job_outcomes.await_job_outcome(stack.settings, stack.sessions, job_id, timeout)
    )
    return status, time.monotonic() - started


def test_the_waiter_wakes_when_the_worker_finishes_the_job(
    stack: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a job accepted while no worker runs, and a count of row reads
    job_id = _queued_job(stack)
    reads: list[str | None] = []
    real_status = job_outcomes._status

    def counted(factory: Any, job: uuid.UUID) -> str | None:
        reads.append(result := real_status(factory, job))
        return result

    monkeypatch.setattr(job_outcomes, "_status", counted)
    worker = _worker(stack, tmp_path)

    # When a worker process starts only once the waiter has subscribed
    async def scenario() -> str | None:
        waiting = asyncio.create_task(
            # A deadline past the test's own timeout (300 s): only the
            # announcement can end this wait while the test still runs
            job_outcomes.await_job_outcome(stack.settings, stack.sessions, job_id, 600)
        )
        while len(reads) < 2:  # the look before, and the look after subscribing
            await asyncio.sleep(0.01)
        worker.start(threads=2)
        return await waiting

    try:
        status = asyncio.run(scenario())
    finally:
        worker.stop()

    # Then the waiter answers the final status, well before its deadline, with
    # one more row read (on the announcement): it did not poll
    assert status == "succeeded", worker.tail()
    assert reads == ["queued", "queued", "succeeded"]


def test_a_job_finished_before_the_subscription_is_seen_in_the_row(
    stack: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a job that is still queued at the waiter's first look, and that
    # the worker finishes (and announces to nobody) before the waiter subscribes
    job_id = _queued_job(stack)
    worker = _worker(stack, tmp_path)
    real_status = job_outcomes._status
    looks: list[str | None] = []

    def first_look_then_the_job_finishes(factory: Any, job: uuid.UUID) -> str | None:
        result = real_status(factory, job)
        looks.append(result)
        if len(looks) == 1:
            worker.start(threads=2)
            wait_until(
                lambda: _status(stack, job_id) in FINAL_JOB_STATUSES,
                timeout=60,
                what="the worker to finish the job",
            )
        return result

    monkeypatch.setattr(job_outcomes, "_status", first_look_then_the_job_finishes)
    try:
        # When the waiter then subscribes, with a deadline past the test's
        # own timeout (300 s): only the row read after subscribing ends it in time
        status, _elapsed = _wait(stack, job_id, 600)
    finally:
        worker.stop()

    # Then it answers at once from the row read after subscribing
    assert looks[0] == "queued"
    assert status == "succeeded"


def test_at_the_deadline_the_answer_is_the_rows_status(stack: Stack) -> None:
    # Given a job no worker takes
    job_id = _queued_job(stack)

    # When the waiter waits one second
    status, elapsed = _wait(stack, job_id, 1.0)

    # Then it answers queued, having waited out that second (a bound of the
    # logic, not a speed)
    assert status == "queued"
    assert elapsed >= 1.0


def test_wait_zero_reads_the_row_once(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    job_id = _queued_job(stack)
    real_status = job_outcomes._status
    reads: list[str | None] = []

    def counted(factory: Any, job: uuid.UUID) -> str | None:
        reads.append(real_status(factory, job))
        return reads[-1]

    monkeypatch.setattr(job_outcomes, "_status", counted)
    status, _elapsed = _wait(stack, job_id, 0)
    assert status == "queued"
    assert reads == ["queued"]


def test_an_unknown_job_is_none(stack: Stack) -> None:
    status, _elapsed = _wait(stack, uuid.uuid4(), 1.0)
    assert status is None


def test_redis_lost_during_the_wait_costs_the_wait_only(
    live: LiveStack, private_redis: PrivateRedis
) -> None:
    # Given a waiter subscribed on a Redis that then dies (its announcement lost)
    with live(redis_url=private_redis.url) as stack:
        job_id = _queued_job(stack, ref="lost")

        async def scenario() -> str | None:
            waiting = asyncio.create_task(
                job_outcomes.await_job_outcome(stack.settings, stack.sessions, job_id, 2.0)
            )
            channel = job_outcomes.channel_of(stack.settings.redis_namespace, job_id)
            await asyncio.to_thread(
                wait_until,
                lambda: _subscribers(private_redis.url, channel) == 1,
                timeout=10,
                what="the waiter's subscription",
                every=0.01,
            )
            private_redis.kill()
            return await waiting

        started = time.monotonic()
        status = asyncio.run(scenario())
        elapsed = time.monotonic() - started

        # Then the waiter answers the row's status at its deadline (not before), no error
        assert status == "queued"
        assert elapsed >= 2.0

        # And with Redis down from the start it answers at once from the row
        # (a deadline past the test's own timeout of 300 s: waiting it out fails)
        status, _elapsed = _wait(stack, job_id, 600)
        assert status == "queued"
