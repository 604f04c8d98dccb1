"""The worker's Dramatiq counters (messaging.ops_middleware) on a real Redis:
summed in memory per process and written by one flush, not one Redis round
trip per message (issue 19)."""

from __future__ import annotations

from typing import Any

import dramatiq
import redis

from rollcall.config.settings import Settings
from rollcall.messaging.ops_middleware import OpsStats, metrics_key, read_metrics
from tests.support.services import RedisServer
from tests.support.stack import unique_namespace
from tests.support.waiting import wait_until


def _message() -> dramatiq.Message[Any]:
    return dramatiq.Message(
        queue_name="jobs", actor_name="process_job", args=("j",), kwargs={}, options={}
    )


def test_counts_wait_in_memory_until_a_flush_writes_their_sums(redis_server: RedisServer) -> None:
    # Given the middleware of a worker process that flushes only when told
    namespace = unique_namespace()
    settings = Settings(
        database_url="sqlite://", redis_url=redis_server.url, redis_namespace=namespace
    )
    stats = OpsStats(settings, flush_every=3600)
    broker: Any = None
    client = redis.Redis.from_url(redis_server.url)
    try:
        # When three messages are processed, one of them failing
        for failed in (False, True, False):
            message = _message()
            stats.before_process_message(broker, message)
            stats.after_process_message(
                broker, message, exception=RuntimeError("boom") if failed else None
            )

        # Then nothing reached Redis yet
        assert client.hgetall(metrics_key(namespace)) == {}

        # And a flush writes the sums
        stats.flush()
        counters = read_metrics(client, namespace)
        assert counters[("total", "jobs", "process_job")] == 3
        assert counters[("errors", "jobs", "process_job")] == 1
        assert counters[("duration_count", "jobs", "process_job")] == 3

        # And what a worker counts before it shuts down is written then
        stats.after_process_message(broker, _message())
        stats.after_worker_shutdown(broker, None)
        assert read_metrics(client, namespace)[("total", "jobs", "process_job")] == 4
    finally:
        client.delete(metrics_key(namespace))
        client.close()


def test_the_background_flush_writes_the_counts(redis_server: RedisServer) -> None:
    # Given the middleware with its background flush
    namespace = unique_namespace()
    settings = Settings(
        database_url="sqlite://", redis_url=redis_server.url, redis_namespace=namespace
    )
    stats = OpsStats(settings, flush_every=0.05)
    client = redis.Redis.from_url(redis_server.url)
    try:
        # When a message is processed
        stats.after_process_message(None, _message())  # type: ignore[arg-type]

        # Then its count reaches Redis without anybody flushing
        wait_until(
            lambda: read_metrics(client, namespace).get(("total", "jobs", "process_job")) == 1,
            timeout=30,
            what="the background flush",
        )
    finally:
        stats.after_worker_shutdown(None, None)  # type: ignore[arg-type]
        client.delete(metrics_key(namespace))
        client.close()
