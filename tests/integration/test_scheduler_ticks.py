"""The scheduler leader records each producer's tick in Redis, with its skipped
rows and failures; the dashboard shows it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import redis
from sqlalchemy import exc as sa

from rollcall.config.settings import Settings
from rollcall.domain.clock import utcnow
from rollcall.domain.jobs.row_guard import each_row
from rollcall.messaging.queue_inspect import QueueInspector
from rollcall.scheduler.ticks import health_key, ticking, ticks_key
from tests.support.services import RedisServer
from tests.support.stack import unique_namespace


@pytest.fixture
def tick_settings(redis_server: RedisServer) -> Settings:
    return Settings(redis_url=redis_server.url, redis_namespace=unique_namespace())


def inspect(settings: Settings) -> QueueInspector:
    return QueueInspector(redis.Redis.from_url(settings.redis_url), settings.redis_namespace)


def test_a_producer_run_records_its_tick(tick_settings: Settings) -> None:
    settings = tick_settings
    runs: list[Settings] = []

    def relay_outbox(given: Settings) -> int:
        runs.append(given)
        return 3

    # When the wrapped producer runs
    before = datetime.now(UTC)
    assert ticking(relay_outbox)(settings) == 3

    # Then it ran once and its tick is readable through the inspector
    inspector = inspect(settings)
    try:
        _leader, ticks = inspector.scheduler()
        assert runs == [settings]
        assert list(ticks) == ["relay_outbox"] and ticks["relay_outbox"] >= before
    finally:
        inspector.client.delete(ticks_key(settings))
        inspector.client.close()


def test_a_tick_records_its_skipped_rows_and_a_failure_without_raising(
    tick_settings: Settings,
) -> None:
    def produce_things(settings: Settings) -> int:
        for row in ("good", "bad", "good too"):
            with each_row(None, row):
                if row == "bad":
                    raise OverflowError("date value out of range")
        return 2

    def relay_things(settings: Settings) -> int:
        raise OverflowError("not a row's: the producer itself")

    before = utcnow()
    # When one producer skips a row and another fails outright
    assert ticking(produce_things, every_seconds=60)(tick_settings) == 2
    assert ticking(produce_things, every_seconds=60)(tick_settings) == 2
    assert ticking(relay_things, every_seconds=10)(tick_settings) is None

    # Then Redis holds what the web process shows: counts, times, intervals
    inspector = inspect(tick_settings)
    try:
        health = inspector.producer_health()
        things, relay = health["produce_things"], health["relay_things"]
        assert (things.skipped, things.last_skipped, things.failures) == (2, 1, 0)
        assert things.every_seconds == 60 and things.last_success is not None
        assert things.last_success >= before and things.last_failure is None
        assert (relay.failures, relay.last_success, relay.every_seconds) == (1, None, 10)
        assert relay.last_failure is not None and relay.last_failure >= before
    finally:
        inspector.client.delete(ticks_key(tick_settings), health_key(tick_settings))
        inspector.client.close()


def test_a_transient_error_is_no_rows_fault_and_fails_the_tick(tick_settings: Settings) -> None:
    seen: list[str] = []

    def produce_things(settings: Settings) -> int:
        for row in ("first", "second"):
            with each_row(None, row):
                seen.append(row)
                raise sa.OperationalError("SELECT 1", {}, ConnectionResetError("lost"))
        return 2

    # When the database goes away under the first row
    assert ticking(produce_things, every_seconds=60)(tick_settings) is None

    # Then the tick stopped there and is recorded as failed, no row as skipped
    inspector = inspect(tick_settings)
    try:
        one = inspector.producer_health()["produce_things"]
        assert seen == ["first"]
        assert (one.failures, one.skipped, one.last_success) == (1, 0, None)
    finally:
        inspector.client.delete(ticks_key(tick_settings), health_key(tick_settings))
        inspector.client.close()
