"""A Dramatiq middleware that keeps Dramatiq's own metrics in Redis, and marks
dead-lettered jobs and mail as failed.

Dramatiq's Prometheus middleware serves each worker host's figures on its own
port from a multiprocess directory on that host; the web process cannot read
them. These counters, kept in one Redis hash with the same metric names, are
shared by every worker process and machine and served by the web's /metrics.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import dramatiq
import redis
from dramatiq.middleware import Middleware

from rollcall.config.settings import Settings
from rollcall.domain.clock import utcnow
from rollcall.domain.jobs.dead_letters import mark_dead_lettered
from rollcall.models.db import sessions_of, transaction

logger = logging.getLogger("rollcall.worker")

#: Dramatiq's Prometheus middleware buckets, in milliseconds.
DURATION_BUCKETS_MS = (
    5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000, 30000, 60000,
    600000, 900000,
)  # fmt: skip
SEP = "|"


def dead_errors_key(namespace: str, queue: str) -> str:
    return f"{namespace}:ops:dead_errors:{queue}"


def metrics_key(namespace: str) -> str:
    return f"{namespace}:ops:metrics"


class OpsStats(Middleware):
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.client = (
            None
            if settings.redis_url.startswith("stub://")
            else redis.Redis.from_url(settings.redis_url, socket_connect_timeout=2)
        )
        self.key = metrics_key(settings.redis_namespace)
        self.started: dict[str, float] = {}
        self.lock = threading.Lock()

    def _incr(self, *fields: tuple[str, float]) -> None:
        if self.client is None:
            return
        try:
            pipe = self.client.pipeline(transaction=False)
            for name, amount in fields:
                pipe.hincrbyfloat(self.key, name, amount)
            pipe.execute()
        except redis.RedisError:
            logger.warning("could not record worker metrics", exc_info=True)

    def after_enqueue(self, broker: dramatiq.Broker, message: Any, delay: int | None) -> None:
        if delay:
            self._incr((SEP.join(("delayed", message.queue_name, message.actor_name)), 1))

    def before_process_message(self, broker: dramatiq.Broker, message: Any) -> None:
        with self.lock:
            self.started[message.message_id] = time.monotonic()

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: Any,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        with self.lock:
            started = self.started.pop(message.message_id, None)
        labels = SEP.join((message.queue_name.removesuffix(".DQ"), message.actor_name))
        fields: list[tuple[str, float]] = [("total" + SEP + labels, 1)]
        if exception is not None:
            fields.append(("errors" + SEP + labels, 1))
        if started is not None:
            elapsed_ms = (time.monotonic() - started) * 1000
            bucket = next((b for b in DURATION_BUCKETS_MS if elapsed_ms <= b), "+Inf")
            fields += [
                (f"duration_bucket{SEP}{labels}{SEP}{bucket}", 1),
                (f"duration_sum{SEP}{labels}", elapsed_ms),
                (f"duration_count{SEP}{labels}", 1),
            ]
        self._incr(*fields)

    after_skip_message = after_process_message

    def after_nack(self, broker: dramatiq.Broker, message: Any) -> None:
        queue = message.queue_name.removesuffix(".DQ")
        labels = SEP.join((queue, message.actor_name))
        self._incr(("rejects" + SEP + labels, 1))
        error = str(message.options.get("traceback", ""))
        redis_id = message.options.get("redis_message_id")
        if self.client is not None and redis_id:
            # Redis dead-letters the message as it was enqueued, without the
            # traceback Retries added in memory: keep it beside, for /ops.
            try:
                self.client.hset(
                    dead_errors_key(self.settings.redis_namespace, queue), redis_id, error
                )
            except redis.RedisError:
                logger.warning("could not record a dead letter's error", exc_info=True)
        try:
            with transaction(sessions_of(self.settings)) as session:
                mark_dead_lettered(
                    session,
                    actor=message.actor_name,
                    args=list(message.args),
                    error=error,
                    now=utcnow(),
                )
        except Exception:
            # The message is dead-lettered either way; the dashboard still lists it.
            logger.exception("could not mark dead-lettered message %s", message.message_id)


def read_metrics(client: redis.Redis, namespace: str) -> dict[tuple[str, ...], float]:
    """The counters as {(name, queue, actor[, le]): value}."""
    raw = client.hgetall(metrics_key(namespace))
    out: dict[tuple[str, ...], float] = {}
    for field, value in raw.items():
        name = field.decode() if isinstance(field, bytes) else str(field)
        out[tuple(name.split(SEP))] = float(value)
    return out
