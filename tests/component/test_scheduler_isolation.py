"""One organisation's bad row never stops a producer for the others (SQLite,
StubBroker, time injected). The end-to-end proof with a real scheduler,
worker and SMTP sink is in tests/integration/test_scheduler_isolation_end_to_end.py."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import redis
from sqlalchemy import exc as sa
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from rollcall.config.settings import Settings
from rollcall.domain.clock import utcnow
from rollcall.domain.jobs.outbox import add_message
from rollcall.domain.jobs.row_guard import counting_skips, each_row
from rollcall.messaging.queue_inspect import QueueInspector
from rollcall.models import Event, Job, Occurrence, OutboxMessage
from rollcall.scheduler.event_producers import plan_expansion
from rollcall.scheduler.producers import relay_outbox
from rollcall.scheduler.reminder_producers import produce_reminders
from rollcall.scheduler.ticks import health_key, ticking, ticks_key
from tests.support.factories import create_event, published_event
from tests.support.odd_rows import YEAR_1, move_to_year_1
from tests.support.reminders import seed_enrollments
from tests.support.services import RedisServer
from tests.support.stack import Stack, unique_namespace

START = datetime(2027, 3, 2, 9, 0, tzinfo=UTC)
MOMENT = START - timedelta(minutes=60)


def test_a_year_1_event_is_skipped_and_the_others_get_their_reminder(unit_stack: Stack) -> None:
    # Given, in one organisation, a published event moved to year 1 with a
    # reminder, and in another a normal event due at MOMENT with ada enrolled
    odd_key, key = unit_stack.key("odd"), unit_stack.key("acme")
    for stack_key, ref in ((odd_key, "ancient"), (key, "normal")):
        published_event(
            unit_stack,
            stack_key,
            ref=ref,
            starts_at=START.isoformat(),
            ends_at=(START + timedelta(hours=1)).isoformat(),
            reminder_before_minutes=60,
        )
    ancient = published_id(unit_stack, odd_key, "ancient")
    move_to_year_1(unit_stack, ancient)
    with unit_stack.db() as session:
        seed_enrollments(
            session,
            published_id(unit_stack, key, "normal"),
            [("ada", "Ada", "enrolled", MOMENT - timedelta(days=1), "event")],
        )

    # When the reminder producer ticks at the normal event's moment
    with counting_skips() as skipped:
        recorded = produce_reminders(unit_stack.settings, now=MOMENT)
    unit_stack.drain()

    # Then the normal run was recorded and sent; the year-1 row was skipped and counted
    assert recorded == 1
    assert [m["To"].addresses[0].addr_spec for m in unit_stack.sink.wait_for(1)] == [
        "ada@example.org"
    ]
    (skip,) = skipped
    assert skip.what.endswith("(before reminder)") and skip.error.startswith("OverflowError")


def published_id(stack: Stack, key: str, ref: str) -> str:
    response = stack.client.get(f"/v1/events/{ref}", headers=stack.auth(key))
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def test_the_relay_passes_a_row_it_cannot_send(unit_stack: Stack) -> None:
    # Given, oldest first, an outbox row naming an actor nobody declares, then two good ones
    old = utcnow() - timedelta(minutes=5)
    with unit_stack.db() as session:
        add_message(session, actor="no_such_actor", args=["x"], now=old)
        for offset in (1, 2):
            add_message(
                session,
                actor="rebuild_calendar",
                args=[],
                now=old + timedelta(seconds=offset),
            )

    # When the relay ticks
    with counting_skips() as skipped:
        sent = relay_outbox(unit_stack.settings)

    # Then the good rows went out, the bad one was skipped and counted, and stays unsent
    assert sent == 2
    assert [s.what.split(" to ")[1] for s in skipped] == ["no_such_actor"]
    with unit_stack.db() as session:
        unsent = session.scalars(select(OutboxMessage.actor).where(OutboxMessage.sent_at.is_(None)))
        assert list(unsent) == ["no_such_actor"]


@pytest.fixture
def tick_settings(redis_server: RedisServer) -> Settings:
    return Settings(redis_url=redis_server.url, redis_namespace=unique_namespace())


def inspect(settings: Settings) -> QueueInspector:
    return QueueInspector(redis.Redis.from_url(settings.redis_url), settings.redis_namespace)


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


def test_an_event_whose_rule_cannot_be_expanded_is_skipped_the_others_expand(
    unit_stack: Stack,
) -> None:
    # Given two endless daily events of one organisation, one of them moved
    # (straight in the database) to a rule starting in year 1 west of Greenwich
    key = unit_stack.key()
    tomorrow = (utcnow() + timedelta(days=1)).strftime("%Y-%m-%dT09:00:00")
    rule = {"type": "daily", "starts_on": tomorrow, "duration_minutes": 60}
    rule |= {"ends": {"type": "never"}}
    good, odd = (
        create_event(unit_stack, key, ref=ref, recurrence=rule, timezone="America/New_York")["id"]
        for ref in ("good", "odd")
    )
    with unit_stack.db() as session:
        session.execute(
            update(Event)
            .where(Event.id == uuid.UUID(odd))
            .values(recurrence=rule | {"starts_on": "0001-01-01T00:10:00"}, expanded_until=YEAR_1)
        )
        before = occurrences_of(session, good)

    # When the scheduler plans an expansion beyond the current horizon, and the worker runs it
    assert plan_expansion(unit_stack.settings, utcnow() + timedelta(days=30)) == 1
    unit_stack.drain()

    # Then the good event was expanded, and the job names the event it skipped
    with unit_stack.db() as session:
        assert occurrences_of(session, good) > before
        (job_row,) = session.scalars(select(Job).where(Job.type == "expand_occurrences"))
        assert job_row.status == "succeeded", job_row.errors
        (skipped,) = job_row.result["skipped"]
    assert skipped["row"] == f"event {odd} (expansion)"
    assert skipped["error"].startswith("OverflowError")


def occurrences_of(session: Session, event_id: str) -> int:
    query = select(func.count()).where(Occurrence.event_id == uuid.UUID(event_id))
    return int(session.scalar(query) or 0)
