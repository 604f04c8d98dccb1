"""The leader records each producer's ticks in Redis, for the dashboard,
/metrics and /readyz (read back by messaging.queue_inspect).

``{ns}:scheduler:ticks`` holds each producer's last tick that ran to its
end; ``{ns}:scheduler:health`` holds, per producer, ``every|<p>`` (seconds
between ticks), ``last_failure|<p>``, ``failures|<p>`` (ticks that raised),
``skipped|<p>`` (rows skipped, domain.jobs.row_guard) and ``last_skipped|<p>``
(rows skipped by the last tick that ran to its end).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

import redis

from rollcall.config.settings import Settings
from rollcall.domain.clock import utcnow
from rollcall.domain.jobs.row_guard import counting_skips

logger = logging.getLogger("rollcall.scheduler")

SEP = "|"


def ticks_key(settings: Settings) -> str:
    return f"{settings.redis_namespace}:scheduler:ticks"


def health_key(settings: Settings) -> str:
    return f"{settings.redis_namespace}:scheduler:health"


def record_tick(
    settings: Settings,
    producer: str,
    *,
    every_seconds: float = 0,
    skipped: int = 0,
    failed: bool = False,
) -> None:
    """Best effort: a Redis hiccup must not stop the producer's work."""
    now = utcnow().isoformat()
    try:
        client = redis.Redis.from_url(settings.redis_url, socket_connect_timeout=2)
        try:
            pipe = client.pipeline(transaction=False)
            health = health_key(settings)
            pipe.hset(health, f"every{SEP}{producer}", every_seconds)
            pipe.hincrby(health, f"skipped{SEP}{producer}", skipped)
            if failed:
                pipe.hset(health, f"last_failure{SEP}{producer}", now)
                pipe.hincrby(health, f"failures{SEP}{producer}", 1)
            else:
                pipe.hset(ticks_key(settings), producer, now)
                pipe.hset(health, f"last_skipped{SEP}{producer}", skipped)
            pipe.execute()
        finally:
            client.close()
    except redis.RedisError:
        logger.warning("could not record the tick of %s", producer, exc_info=True)


def ticking(
    producer: Callable[[Settings], Any], every_seconds: float = 0
) -> Callable[[Settings], Any]:
    """Wrap a producer so that each run records its tick, the rows it skipped,
    or its failure. A failure is logged and recorded, not raised: the next
    tick tries again (APScheduler would only log it too)."""
    name = producer.__name__

    @functools.wraps(producer)
    def run(settings: Settings) -> Any:
        with counting_skips() as skipped:
            try:
                result = producer(settings)
            except Exception:
                logger.exception(
                    "producer %s failed; the next tick tries again",
                    name,
                    extra={"producer": name, "skipped": len(skipped)},
                )
                record_tick(
                    settings, name, every_seconds=every_seconds, skipped=len(skipped), failed=True
                )
                return None
        if skipped:
            logger.warning(
                "producer %s skipped %d row(s) it could not handle",
                name,
                len(skipped),
                extra={"producer": name, "skipped": len(skipped)},
            )
        record_tick(settings, name, every_seconds=every_seconds, skipped=len(skipped))
        return result

    return run
