"""A Dramatiq middleware that keeps Dramatiq's own metrics in Redis, and marks
dead-lettered jobs and mail as failed.

Dramatiq's Prometheus middleware serves each worker host's figures on its own
port from a multiprocess directory on that host; the web process cannot read
them. These counters, kept in one Redis hash with the same metric names, are
shared by every worker process and machine and served by the web's /metrics.

A message's counts are added up in memory, off its worker thread's path; one
background thread per process writes the sums every ``FLUSH_EVERY`` seconds
in one pipeline (and at worker shutdown, and at exit). So /metrics lags the
workers by up to that much, and a process killed outright loses at most its
last interval's counts: these are figures for operators, not records.
"""

from __future__ import annotations

import atexit
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
#: Seconds between two writes of the summed counters to Redis.
FLUSH_EVERY = 1.0


def dead_errors_key(namespace: str, queue: str) -> str:
    return f"{namespace}:ops:dead_errors:{queue}"


def metrics_key(namespace: str) -> str:
    return f"{namespace}:ops:metrics"


class OpsStats(Middleware):
    def __init__(self, settings: Settings, *, flush_every: float = FLUSH_EVERY) -> None:
        self.settings = settings
        self.client = (
            None
            if settings.redis_url.startswith("stub://")
            else redis.Redis.from_url(settings.redis_url, socket_connect_timeout=2)
        )
        self.key = metrics_key(settings.redis_namespace)
        self.flush_every = flush_every
        self.started: dict[str, float] = {}
        self.lock = threading.Lock()
        #: Counts not yet written: {hash field: amount}.
        self.pending: dict[str, float] = {}
        self.flusher: threading.Thread | None = None
        self.stopping = threading.Event()
        self.exit_hooked = False

    def _incr(self, *fields: tuple[str, float]) -> None:
        if self.client is None:
            return
        with self.lock:
            for name, amount in fields:
                self.pending[name] = self.pending.get(name, 0) + amount
            if self.flusher is None:
                self._start_flusher()

    def _start_flusher(self) -> None:
        # Under self.lock. Started by the first count, in a worker or a web process.
        self.stopping.clear()
        self.flusher = threading.Thread(target=self._run, name="rollcall-ops-stats", daemon=True)
        self.flusher.start()
        if not self.exit_hooked:
            atexit.register(self.flush)
            self.exit_hooked = True

    def _run(self) -> None:
        while not self.stopping.wait(self.flush_every):
            self.flush()

    def flush(self) -> None:
        """Write the counts summed since the last flush, in one pipeline. If
        Redis cannot be reached they are kept for the next flush (the fields
        are few: one per metric, queue, actor and bucket)."""
        with self.lock:
            fields, self.pending = self.pending, {}
        if not fields or self.client is None:
            return
        try:
            pipe = self.client.pipeline(transaction=False)
            for name, amount in fields.items():
                pipe.hincrbyfloat(self.key, name, amount)
            pipe.execute()
        except redis.RedisError:
            logger.warning("could not record worker metrics", exc_info=True)
            with self.lock:
                for name, amount in fields.items():
                    self.pending[name] = self.pending.get(name, 0) + amount

    def after_worker_shutdown(self, broker: dramatiq.Broker, worker: Any) -> None:
        with self.lock:
            flusher, self.flusher = self.flusher, None
            self.stopping.set()
        if flusher is not None:
            flusher.join(timeout=30)
        self.flush()

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
