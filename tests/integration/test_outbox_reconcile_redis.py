"""The reconciler against a real Redis, where it asks the broker what it holds.

It sends again a row sent before the reconcile age, not done, whose message the
broker no longer holds live (lost, or held only by a dead worker). It leaves
done rows, young rows, unsent rows (the relay's), and rows whose message the
broker still holds: ready, delayed, fetched by a live worker, dead-lettered.
(SQLite for the rows; the StubBroker case is in tests/component/.)
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from dramatiq.broker import Consumer, MessageProxy
from dramatiq.brokers.redis import RedisBroker

from rollcall.messaging.outbox import send_row
from rollcall.messaging.outbox_reconcile import reconcile
from rollcall.messaging.queue_inspect import inspector_of
from rollcall.models import OutboxMessage
from tests.support.outbox import AGE, NOW, OLD, add_row, rows
from tests.support.services import RedisServer
from tests.support.stack import Stack, bind_broker, configure, unique_namespace


@pytest.fixture
def redis_stack(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str, redis_server: RedisServer, tmp_path: Path
) -> Iterator[Stack]:
    """SQLite and a Dramatiq Redis broker, no worker: the queues hold what is sent."""
    settings = configure(
        monkeypatch,
        database_url=sqlite_url,
        redis_url=redis_server.url,
        redis_namespace=unique_namespace(),
        var_dir=str(tmp_path),
        # (no maintenance: it would put a dead worker's messages back by chance)
        broker_maintenance_chance="0",
    )
    broker = bind_broker(settings)
    yield Stack(settings=settings, broker=broker, client=None)  # type: ignore[arg-type]
    broker.flush_all()  # type: ignore[attr-defined]
    broker.close()


def fetch(by: RedisBroker, stack: Stack, row: OutboxMessage) -> tuple[Consumer, MessageProxy]:
    """Send the row's message and fetch it as the worker ``by`` does, unacked."""
    send_row(stack.broker, row)
    queue = stack.broker.get_actor(row.actor).queue_name
    consumer = by.consume(queue, prefetch=1, timeout=100)
    deadline = time.monotonic() + 10
    message = None
    while message is None and time.monotonic() < deadline:
        message = next(consumer)
    assert message is not None and message.message_id == str(row.id)
    return consumer, message


def fetch_as_another_worker(stack: Stack, row: OutboxMessage) -> RedisBroker:
    """Another worker process fetches the row's message and keeps it unacked."""
    assert isinstance(stack.broker, RedisBroker)
    other = RedisBroker(url=stack.settings.redis_url, namespace=stack.broker.namespace)  # type: ignore[no-untyped-call]
    fetch(other, stack, row)
    return other


def dead_letter(stack: Stack, row: OutboxMessage) -> None:
    """Fetch the row's message and reject it, as a worker does when it gives up."""
    assert isinstance(stack.broker, RedisBroker)
    consumer, message = fetch(stack.broker, stack, row)
    consumer.nack(message)
    queue = stack.broker.get_actor(row.actor).queue_name
    (depth,) = inspector_of(stack.broker).depths((queue,))  # type: ignore[union-attr]
    assert depth.dead == 1


def test_reconciler_sends_again_only_what_the_broker_lost(redis_stack: Stack) -> None:
    stack = redis_stack
    assert isinstance(stack.broker, RedisBroker)
    # Given a message fetched by a worker that has since gone silent (fetched
    # first: a consumer takes the oldest message), and one a live worker holds
    by_dead_worker = add_row(stack)
    dead = fetch_as_another_worker(stack, by_dead_worker)
    stack.broker.client.zadd(f"{stack.broker.namespace}:__heartbeats__", {dead.broker_id: 0})
    by_live_worker = add_row(stack)
    fetch_as_another_worker(stack, by_live_worker)
    # And rows whose message is ready, delayed, or dead-lettered
    ready = add_row(stack)
    send_row(stack.broker, ready)
    delayed = add_row(stack, actor="send_email")
    message = stack.broker.get_actor("send_email").message()
    stack.broker.enqueue(message.copy(message_id=str(delayed.id)), delay=600_000)
    dead_lettered = add_row(stack, actor="send_email")
    dead_letter(stack, dead_lettered)
    # And rows that are done, young, never sent, or lost by the broker
    done = add_row(stack, done_at=OLD)
    young = add_row(stack, sent_at=NOW - timedelta(seconds=AGE - 5))
    unsent = add_row(stack, sent_at=None)
    lost_row = add_row(stack)

    # When the reconciler runs
    report = reconcile(stack.sessions, stack.broker, now=NOW, older_than_seconds=AGE)

    # Then it sent again the lost message and the one only a dead worker held
    assert report.asked_broker
    assert report.resent == 2
    after = rows(stack)
    resent = {row_id for row_id, row in after.items() if row.attempts == 2}
    assert resent == {lost_row.id, by_dead_worker.id}
    assert all(after[row_id].sent_at == NOW for row_id in resent)
    # And left everything else as it was
    for row in (by_live_worker, ready, delayed, dead_lettered, done, young, unsent):
        assert after[row.id].attempts == row.attempts
        assert after[row.id].sent_at == row.sent_at
    # And the broker holds the two again; their age starts over, so the next
    # tick leaves them (and sends nothing)
    inspector = inspector_of(stack.broker)
    assert inspector is not None
    live = inspector.live_message_ids(
        ["jobs", "mail"], now_ms=time.time() * 1000, heartbeat_timeout_ms=60_000
    )
    assert {str(lost_row.id), str(by_dead_worker.id)} <= live
    again = reconcile(stack.sessions, stack.broker, now=NOW, older_than_seconds=AGE)
    assert (again.pending, again.held, again.resent) == (4, 4, 0)
