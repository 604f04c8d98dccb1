"""``rollcall scheduler``: APScheduler 3.11 under a Redis leadership lock.

``main(settings)`` is the scheduler process's entry point: the CLI builds the
settings and hands them in; the broker is made from them here, and every
producer is called with them.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import redis
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from rollcall.config.settings import Settings
from rollcall.messaging.broker import configure_broker
from rollcall.scheduler import event_producers, producers, reminder_producers
from rollcall.scheduler.leader import Leadership
from rollcall.scheduler.ticks import ticking

logger = logging.getLogger("rollcall.scheduler")

#: Producers that may run at once (APScheduler's thread pool): the scheduler's
#: database pool is sized to it (models.db.pool_size_for).
PRODUCER_THREADS = 4

#: (producer, seconds between ticks). Each producer is idempotent per tick.
PRODUCERS: list[tuple[Callable[[Settings], Any], int]] = [
    (producers.relay_outbox, 10),
    (event_producers.expand_occurrences, 600),
    (event_producers.complete_events, 300),
    (producers.enqueue_calendar_rebuild, 3600),
]


def producer_intervals(settings: Settings) -> list[tuple[Callable[[Settings], Any], int]]:
    """Every producer with its interval; the reconciler's and the reminders'
    come from settings."""
    return [
        *PRODUCERS,
        (reminder_producers.produce_reminders, settings.reminder_tick_seconds),
        (reminder_producers.requeue_stalled_mail, settings.reminder_tick_seconds),
        (producers.reconcile_outbox, settings.outbox_reconcile_every_seconds),
    ]


def build_scheduler(settings: Settings) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(
        timezone="UTC", executors={"default": ThreadPoolExecutor(PRODUCER_THREADS)}
    )
    for producer, seconds in producer_intervals(settings):
        scheduler.add_job(
            ticking(producer, every_seconds=seconds),
            "interval",
            seconds=seconds,
            args=[settings],
            id=producer.__name__,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=seconds,
            # A new leader produces at once rather than one interval later.
            next_run_time=datetime.now(UTC),
        )
    return scheduler


def run(
    settings: Settings, stop: threading.Event | None = None, renew_every: float | None = None
) -> None:
    """Stand by until leader, produce while leader, until ``stop`` is set.

    A standby polls every ttl/6 seconds, so when the leader dies (its lock
    expires after ``scheduler_leader_ttl_seconds``) it takes over within ~7/6
    of the TTL: 35 seconds with the default 30.
    """
    stop = stop or threading.Event()
    ttl = settings.scheduler_leader_ttl_seconds
    renew_every = renew_every or ttl / 6
    client = redis.Redis.from_url(settings.redis_url, socket_connect_timeout=2)
    leadership = Leadership(client, f"{settings.redis_namespace}:scheduler:leader", ttl)
    scheduler: BackgroundScheduler | None = None
    logger.info("scheduler started as %s; waiting for leadership", leadership.identity)
    try:
        while not stop.is_set():
            try:
                if scheduler is None:
                    if leadership.try_acquire():
                        logger.info(
                            "became scheduler leader", extra={"leader": leadership.identity}
                        )
                        scheduler = build_scheduler(settings)
                        scheduler.start()
                elif not leadership.renew():
                    logger.warning("lost scheduler leadership; standing by")
                    scheduler.shutdown(wait=False)
                    scheduler = None
            except redis.RedisError:
                logger.warning("redis unavailable for leadership", exc_info=True)
                if scheduler is not None:
                    scheduler.shutdown(wait=False)
                    scheduler = None
            stop.wait(renew_every)
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=True)
            leadership.release()
        client.close()


def main(settings: Settings) -> None:
    configure_broker(settings)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    run(settings, stop)
