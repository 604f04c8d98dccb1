"""The leader records each producer's last tick in Redis, for the dashboard."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

import redis

from domain.clock import utcnow
from rollcall.settings import Settings

logger = logging.getLogger("rollcall.scheduler")


def ticks_key(settings: Settings) -> str:
    return f"{settings.redis_namespace}:scheduler:ticks"


def record_tick(settings: Settings, producer: str) -> None:
    """Best effort: a Redis hiccup must not stop the producer's work."""
    try:
        client = redis.Redis.from_url(settings.redis_url, socket_connect_timeout=2)
        try:
            client.hset(ticks_key(settings), producer, utcnow().isoformat())
        finally:
            client.close()
    except redis.RedisError:
        logger.warning("could not record the tick of %s", producer, exc_info=True)


def ticking(producer: Callable[[Settings], Any]) -> Callable[[Settings], Any]:
    """Wrap a producer so that each run records its tick after it returns."""

    @functools.wraps(producer)
    def run(settings: Settings) -> Any:
        result = producer(settings)
        record_tick(settings, producer.__name__)
        return result

    return run
