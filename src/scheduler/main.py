"""``rollcall scheduler``: APScheduler 3.11 under a Redis leadership lock."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from typing import Any

import redis
from apscheduler.schedulers.background import BackgroundScheduler

import workers.actors  # noqa: F401  (declares the actors the relay sends to)
from rollcall.settings import Settings
from scheduler import producers
from scheduler.leader import Leadership

logger = logging.getLogger("rollcall.scheduler")

#: (producer, seconds between ticks). Each producer is idempotent per tick.
PRODUCERS: list[tuple[Callable[[Settings], Any], int]] = [
    (producers.relay_outbox, 10),
    (producers.enqueue_calendar_rebuild, 3600),
]


def build_scheduler(settings: Settings) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone="UTC")
    for producer, seconds in PRODUCERS:
        scheduler.add_job(
            producer,
            "interval",
            seconds=seconds,
            args=[settings],
            id=producer.__name__,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=seconds,
        )
    return scheduler


def run(settings: Settings, stop: threading.Event | None = None, renew_every: float = 5.0) -> None:
    """Stand by until leader, produce while leader, until ``stop`` is set."""
    stop = stop or threading.Event()
    client = redis.Redis.from_url(settings.redis_url, socket_connect_timeout=2)
    leadership = Leadership(client, f"{settings.redis_namespace}:scheduler:leader")
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
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    run(settings, stop)
