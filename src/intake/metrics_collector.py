"""The figures behind ``/metrics``, read when Prometheus scrapes.

- Dramatiq's own metrics (``dramatiq_messages_total``, ``dramatiq_message_errors_total``,
  ``dramatiq_message_rejects_total``, ``dramatiq_message_duration_milliseconds``,
  ``dramatiq_delayed_messages_total``), kept in Redis by messaging.ops_middleware so that
  they add up across every worker process, and ``dramatiq_messages_inprogress``.
- ``rollcall_queue_messages{queue,state}``: ready / delayed / in_progress / dead.
- ``rollcall_jobs{type,status}``, ``rollcall_job_latency_seconds`` (accepted -> finished).
- ``rollcall_mail{state}``, ``rollcall_orphan_payments``, ``rollcall_reminder_runs{state}``.
- ``rollcall_outbox_unsent``, ``rollcall_outbox_oldest_unsent_seconds``.
- ``rollcall_webhook_deliveries{state}`` (pending, delivering, retrying, succeeded,
  failed), ``rollcall_webhook_backlog``, ``rollcall_webhook_oldest_unfinished_seconds``,
  ``rollcall_webhook_subscriptions{enabled}``.
- ``rollcall_workers_alive``, ``rollcall_scheduler_leader``,
  ``rollcall_scheduler_last_tick_timestamp_seconds{producer}`` (last successful tick),
  ``rollcall_scheduler_producer_failures_total{producer}``,
  ``rollcall_scheduler_rows_skipped_total{producer}``,
  ``rollcall_scheduler_last_failure_timestamp_seconds{producer}``,
  ``rollcall_scheduler_producer_state{producer,state}``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import redis
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)
from prometheus_client.metrics_core import Metric
from prometheus_client.utils import floatToGoString as _go_float
from sqlalchemy import case, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from rollcall.config.settings import Settings
from rollcall.domain.clock import utcnow
from rollcall.domain.ops import producer_health
from rollcall.domain.ops.producer_health import ProducerHealth, producer_state
from rollcall.domain.ops.views import count_orphan_payments, count_unsent_outbox
from rollcall.domain.ops.webhooks import backlog, delivery_counts
from rollcall.messaging.ops_middleware import DURATION_BUCKETS_MS, read_metrics
from rollcall.messaging.queue_inspect import QUEUES, STATES, inspector_for
from rollcall.models import EmailMessage, Job, ReminderRun, WebhookSubscription
from rollcall.models.db import engine_of, sessions_of

logger = logging.getLogger("rollcall.metrics")

#: Seconds from accepted to finished: jobs wait in queues, bulk ones run long.
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600)
#: Issue 5's table: one row per (occurrence, kind) with a ``status`` column.


def _latency_seconds(connection: Connection) -> Any:
    if connection.dialect.name == "sqlite":
        return (func.julianday(Job.finished_at) - func.julianday(Job.created_at)) * 86400.0
    return func.extract("epoch", Job.finished_at - Job.created_at)


def _le(bound: float | str) -> str:
    """Bucket bounds as Prometheus writes them ("0.5", "3600.0", "+Inf")."""
    return str(_go_float(bound))  # type: ignore[no-untyped-call]


class RollcallCollector:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def collect(self) -> Iterator[Metric]:
        yield from self._database()
        try:
            yield from self._redis()
        except redis.RedisError:
            logger.warning("metrics: Redis unavailable", exc_info=True)
            up = GaugeMetricFamily("rollcall_redis_up", "Redis answered the scrape")
            up.add_metric([], 0)
            yield up

    # Database -------------------------------------------------------------------

    def _database(self) -> Iterator[Metric]:
        engine = engine_of(self.settings)
        with engine.connect() as connection:
            jobs = GaugeMetricFamily(
                "rollcall_jobs", "Jobs by type and status", labels=["type", "status"]
            )
            for job_type, status, count in connection.execute(
                select(Job.type, Job.status, func.count()).group_by(Job.type, Job.status)
            ):
                jobs.add_metric([job_type, status], count)
            yield jobs
            yield self._latency(connection)
            mail = GaugeMetricFamily("rollcall_mail", "Mail by delivery state", labels=["state"])
            for state, count in connection.execute(
                select(EmailMessage.state, func.count()).group_by(EmailMessage.state)
            ):
                mail.add_metric([state], count)
            yield mail
            yield self._reminder_runs(connection)
        with sessions_of(self.settings)() as session:
            orphans = GaugeMetricFamily(
                "rollcall_orphan_payments",
                "Payments whose enrollment is no longer enrolled or waitlisted",
                labels=["organisation_id"],
            )
            for org, count in count_orphan_payments(session).items():
                orphans.add_metric([str(org)], count)
            yield orphans
            unsent, age = count_unsent_outbox(session, now=utcnow())
            outbox = GaugeMetricFamily(
                "rollcall_outbox_unsent", "Outbox rows not handed to the broker yet"
            )
            outbox.add_metric([], unsent)
            yield outbox
            oldest = GaugeMetricFamily(
                "rollcall_outbox_oldest_unsent_seconds", "Age of the oldest unsent outbox row"
            )
            oldest.add_metric([], age)
            yield oldest
            yield from self._webhooks(session)

    def _webhooks(self, session: Session) -> Iterator[Metric]:
        deliveries = GaugeMetricFamily(
            "rollcall_webhook_deliveries",
            "Webhook deliveries by state (succeeded and failed are outcomes)",
            labels=["state"],
        )
        for state, count in delivery_counts(session).items():
            deliveries.add_metric([state], count)
        yield deliveries
        unfinished, age = backlog(session, now=utcnow())
        waiting = GaugeMetricFamily(
            "rollcall_webhook_backlog", "Webhook deliveries not finished yet"
        )
        waiting.add_metric([], unfinished)
        yield waiting
        oldest = GaugeMetricFamily(
            "rollcall_webhook_oldest_unfinished_seconds",
            "Age of the oldest webhook delivery not finished yet",
        )
        oldest.add_metric([], age)
        yield oldest
        subscriptions = GaugeMetricFamily(
            "rollcall_webhook_subscriptions", "Webhook subscriptions", labels=["enabled"]
        )
        counts = dict(
            session.execute(
                select(WebhookSubscription.enabled, func.count()).group_by(
                    WebhookSubscription.enabled
                )
            ).all()
        )
        for enabled in (True, False):
            subscriptions.add_metric([str(enabled).lower()], int(counts.get(enabled, 0)))
        yield subscriptions

    def _latency(self, connection: Connection) -> Metric:
        seconds = _latency_seconds(connection)
        columns = [
            func.sum(case((seconds <= bound, 1), else_=0)).label(f"b{index}")
            for index, bound in enumerate(LATENCY_BUCKETS)
        ]
        row = connection.execute(
            select(func.count(), func.coalesce(func.sum(seconds), 0.0), *columns).where(
                Job.finished_at.is_not(None)
            )
        ).one()
        count, total = int(row[0]), float(row[1])
        buckets = [(_le(bound), int(row[2 + i] or 0)) for i, bound in enumerate(LATENCY_BUCKETS)]
        histogram = HistogramMetricFamily(
            "rollcall_job_latency_seconds", "Seconds from a job's acceptance to its end"
        )
        histogram.add_metric([], [*buckets, ("+Inf", count)], sum_value=total)
        return histogram

    def _reminder_runs(self, connection: Connection) -> Metric:
        runs = GaugeMetricFamily(
            "rollcall_reminder_runs",
            "Reminder runs by state (pending, sending, done = sent, missed, cancelled)",
            labels=["state"],
        )
        for state, count in connection.execute(
            select(ReminderRun.state, func.count()).group_by(ReminderRun.state)
        ):
            runs.add_metric([str(state)], count)
        return runs

    # Redis ----------------------------------------------------------------------

    def _redis(self) -> Iterator[Metric]:
        inspector = inspector_for(self.settings.redis_url, self.settings.redis_namespace)
        if inspector is None:
            return
        depth = GaugeMetricFamily(
            "rollcall_queue_messages", "Messages per queue and state", labels=["queue", "state"]
        )
        in_progress = GaugeMetricFamily(
            "dramatiq_messages_inprogress",
            "Messages fetched by a worker and not acknowledged yet",
            labels=["queue_name"],
        )
        for queue in inspector.depths(QUEUES):
            for state in STATES:
                depth.add_metric([queue.queue, state], getattr(queue, state))
            in_progress.add_metric([queue.queue], queue.in_progress)
        yield depth
        yield in_progress
        workers = inspector.workers(QUEUES)
        alive = GaugeMetricFamily("rollcall_workers_alive", "Workers with a recent heartbeat")
        alive.add_metric([], sum(1 for worker in workers if worker.alive))
        yield alive
        leader, ticks = inspector.scheduler()
        has_leader = GaugeMetricFamily("rollcall_scheduler_leader", "1 if a scheduler leads")
        has_leader.add_metric([], 1 if leader else 0)
        yield has_leader
        tick = GaugeMetricFamily(
            "rollcall_scheduler_last_tick_timestamp_seconds",
            "When each producer last ran to its end (its last successful tick)",
            labels=["producer"],
        )
        for name, at in ticks.items():
            tick.add_metric([name], at.timestamp())
        yield tick
        yield from self._producers(inspector.producer_health())
        yield from self._dramatiq(read_metrics(inspector.client, self.settings.redis_namespace))

    def _producers(self, health: dict[str, ProducerHealth]) -> Iterator[Metric]:
        """Producer failures and skipped rows (scheduler.ticks records them)."""
        labels = ["producer"]
        failures = CounterMetricFamily(
            "rollcall_scheduler_producer_failures",
            "Producer ticks that raised (the next tick tries again)",
            labels=labels,
        )
        skipped = CounterMetricFamily(
            "rollcall_scheduler_rows_skipped",
            "Rows a producer skipped because it could not handle them (see the scheduler log)",
            labels=labels,
        )
        failed_at = GaugeMetricFamily(
            "rollcall_scheduler_last_failure_timestamp_seconds",
            "When each producer's tick last raised",
            labels=labels,
        )
        state = GaugeMetricFamily(
            "rollcall_scheduler_producer_state",
            "1 for each producer's current state (as in /readyz), 0 for the others",
            labels=["producer", "state"],
        )
        now = utcnow()
        for name, one in health.items():
            failures.add_metric([name], one.failures)
            skipped.add_metric([name], one.skipped)
            if one.last_failure is not None:
                failed_at.add_metric([name], one.last_failure.timestamp())
            current = producer_state(one, now=now)
            for each in producer_health.STATES:
                state.add_metric([name, each], 1 if each == current else 0)
        yield from (failures, skipped, failed_at, state)

    def _dramatiq(self, raw: dict[tuple[str, ...], float]) -> Iterator[Metric]:
        labels = ["queue_name", "actor_name"]
        for field, name, doc in (
            ("total", "dramatiq_messages", "The total number of messages processed"),
            ("errors", "dramatiq_message_errors", "The total number of errored messages"),
            ("rejects", "dramatiq_message_rejects", "The total number of dead-lettered messages"),
            ("delayed", "dramatiq_delayed_messages", "The number of delayed messages enqueued"),
        ):
            family = CounterMetricFamily(name, doc, labels=labels)
            for key, value in sorted(raw.items()):
                if key[0] == field and len(key) == 3:
                    family.add_metric(list(key[1:]), value)
            yield family
        duration = HistogramMetricFamily(
            "dramatiq_message_duration_milliseconds",
            "The time spent processing messages",
            labels=labels,
        )
        pairs = sorted({key[1:3] for key in raw if key[0] == "duration_count"})
        for queue, actor in pairs:
            cumulative = 0.0
            buckets = []
            for bound in (*DURATION_BUCKETS_MS, "+Inf"):
                cumulative += raw.get(("duration_bucket", queue, actor, str(bound)), 0.0)
                buckets.append((_le(bound), cumulative))
            duration.add_metric(
                [queue, actor], buckets, sum_value=raw.get(("duration_sum", queue, actor), 0.0)
            )
        yield duration
