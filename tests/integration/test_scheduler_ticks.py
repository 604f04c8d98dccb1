"""The scheduler leader records each producer's tick; the dashboard shows it."""

from __future__ import annotations

from datetime import UTC, datetime

import redis

from rollcall.config.settings import Settings
from rollcall.messaging.queue_inspect import QueueInspector
from rollcall.scheduler.ticks import ticking, ticks_key
from tests.support.services import RedisServer
from tests.support.stack import unique_namespace


def test_a_producer_run_records_its_tick(redis_server: RedisServer) -> None:
    settings = Settings(redis_url=redis_server.url, redis_namespace=unique_namespace())
    runs: list[Settings] = []

    def relay_outbox(given: Settings) -> int:
        runs.append(given)
        return 3

    # When the wrapped producer runs
    before = datetime.now(UTC)
    assert ticking(relay_outbox)(settings) == 3

    # Then it ran once and its tick is readable through the inspector
    client = redis.Redis.from_url(redis_server.url)
    try:
        _leader, ticks = QueueInspector(client, settings.redis_namespace).scheduler()
        assert runs == [settings]
        assert list(ticks) == ["relay_outbox"] and ticks["relay_outbox"] >= before
    finally:
        client.delete(ticks_key(settings))
        client.close()
