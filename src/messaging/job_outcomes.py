"""Job-finished notifications over Redis pub/sub, and the bounded wait on them.

A worker publishes a job's id on the job's own channel after the commit that
finished it (``publish_finished``). ``await_job_outcome`` lets the intake
answer with a job's outcome when it comes within a deadline: it subscribes
first, then reads the job row (a job that finished before the subscription is
seen there), then waits on the subscription, without polling, until a
notification or the deadline.

The notification is only a hint: the row decides. A notification lost (Redis
restarted, a publish that failed) costs the waiter its wait, never a wrong
answer: at the deadline the row is read again and its status, ``queued`` or
``running``, is the answer.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Iterable

import anyio.to_thread
import redis
import redis.asyncio as aioredis
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from rollcall.config.settings import Settings
from rollcall.messaging.redis_client import LazyRedis
from rollcall.models import Job
from rollcall.models.jobs import FINAL_JOB_STATUSES

logger = logging.getLogger("rollcall.jobs")

#: Connecting to Redis for a wait or a publish gives up after this long.
CONNECT_TIMEOUT_SECONDS = 2.0


def channel_of(namespace: str, job_id: uuid.UUID | str) -> str:
    """The pub/sub channel a job's end is announced on (namespaced like every key)."""
    return f"{namespace}:job-finished:{job_id}"


class FinishedPublisher:
    """Publishes job ids on their channels; one Redis client per process,
    made on first use. A failure is logged and swallowed: the job's change is
    committed and a waiter reads it at its deadline anyway."""

    def __init__(self, settings: Settings) -> None:
        self._url = settings.redis_url
        self._namespace = settings.redis_namespace
        self._redis = LazyRedis(self._url, timeout=CONNECT_TIMEOUT_SECONDS)

    def __call__(self, job_ids: Iterable[uuid.UUID]) -> None:
        if self._url.startswith("stub://"):
            return
        try:
            with self._redis.get().pipeline(transaction=False) as pipe:
                for job_id in job_ids:
                    pipe.publish(channel_of(self._namespace, job_id), str(job_id))
                pipe.execute()
        except redis.RedisError:
            logger.warning("job-finished notification not published", exc_info=True)


def _status(factory: sessionmaker[Session], job_id: uuid.UUID) -> str | None:
    with factory() as session:
        return session.scalar(select(Job.status).where(Job.id == job_id))


async def _read(factory: sessionmaker[Session], job_id: uuid.UUID) -> str | None:
    # The database is synchronous: read it off the event loop, in anyio's
    # threadpool, whose limiter (WEB_THREADS) the connection pool is sized to.
    return await anyio.to_thread.run_sync(_status, factory, job_id)


async def await_job_outcome(
    settings: Settings,
    factory: sessionmaker[Session],
    job_id: uuid.UUID,
    timeout: float,
) -> str | None:
    """The job's status once it is final, or at the latest after ``timeout``
    seconds (then ``queued`` or ``running``); None if there is no such job.
    ``timeout`` 0 reads the row once. Never raises for Redis: without it the
    row is read at once (a job cannot be delivered without Redis either)."""
    status = await _read(factory, job_id)
    if timeout <= 0 or status is None or status in FINAL_JOB_STATUSES:
        return status
    if settings.redis_url.startswith("stub://"):
        return status
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    client = aioredis.Redis.from_url(
        settings.redis_url,
        socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
    )
    try:
        async with client.pubsub() as pubsub:
            try:
                async with asyncio.timeout(min(timeout, CONNECT_TIMEOUT_SECONDS)):
                    await pubsub.subscribe(channel_of(settings.redis_namespace, job_id))
            except (redis.RedisError, OSError, TimeoutError):
                logger.warning("job-finished wait: Redis unreachable", exc_info=True)
                return await _read(factory, job_id)
            # Subscribed: a job finishing from now on is announced to us; one
            # that finished before is seen in the row read next.
            status = await _read(factory, job_id)
            while status is not None and status not in FINAL_JOB_STATUSES:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                try:
                    message = await pubsub.get_message(
                        ignore_subscribe_messages=True, timeout=remaining
                    )
                except (redis.RedisError, OSError):
                    # Redis went away mid-wait: the notification is lost, the
                    # rest of the wait is spent without it.
                    logger.warning("job-finished wait: Redis lost", exc_info=True)
                    await asyncio.sleep(max(0.0, deadline - loop.time()))
                    return await _read(factory, job_id)
                if message is not None:
                    status = await _read(factory, job_id)
            if status is None or status in FINAL_JOB_STATUSES:
                return status
            return await _read(factory, job_id)
    finally:
        await client.aclose()
