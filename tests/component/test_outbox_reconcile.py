"""The reconciler's choice: which outbox rows it sends again, and which it leaves.

It sends again a row sent before the reconcile age, not done, whose message the
broker no longer holds live (lost, or held only by a dead worker). It leaves
done rows, young rows, unsent rows (the relay's), and rows whose message the
broker still holds: ready, delayed, fetched by a live worker, dead-lettered.
Against a real Redis (the broker check reads Dramatiq's keys), and against the
StubBroker, where age alone decides.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dramatiq
import pytest
from dramatiq.broker import MessageProxy
from dramatiq.brokers.redis import RedisBroker
from sqlalchemy import select

from rollcall.messaging.outbox import send_row
from rollcall.messaging.outbox_acks import OUTBOX_OPTION, OutboxAcks
from rollcall.messaging.outbox_reconcile import Pending, lost, reconcile
from rollcall.messaging.queue_inspect import inspector_of
from rollcall.models import OutboxMessage
from rollcall.models.db import transaction
from tests.support.factories import enroll, published_event
from tests.support.faults import wait_until
from tests.support.services import RedisServer
from tests.support.stack import Stack, bind_broker, configure, unique_namespace

NOW = datetime.now(UTC)
OLD = NOW - timedelta(minutes=10)
AGE = 120


@pytest.mark.parametrize(
    ("live", "expected"),
    [
        (set(), ["a", "b", "c"]),
        ({"b"}, ["a", "c"]),
        ({"a", "b", "c", "other"}, []),
        (None, ["a", "b", "c"]),  # the broker cannot tell: age alone
    ],
)
def test_lost_rows_are_those_the_broker_does_not_hold(
    live: set[str] | None, expected: list[str]
) -> None:
    ids = {name: uuid.uuid5(uuid.NAMESPACE_URL, name) for name in "abc"}
    pending = [Pending(ids[name], "process_job") for name in "abc"]
    held = None if live is None else {str(ids.get(name, name)) for name in live}
    assert lost(pending, held) == [ids[name] for name in expected]


def add_row(
    stack: Stack,
    *,
    actor: str = "process_job",
    sent_at: datetime | None = OLD,
    done_at: datetime | None = None,
) -> OutboxMessage:
    with stack.db() as session:
        row = OutboxMessage(
            actor=actor,
            args=[str(uuid.uuid4())],
            created_at=sent_at or NOW,
            sent_at=sent_at,
            attempts=1 if sent_at else 0,
            done_at=done_at,
        )
        session.add(row)
    return row


def rows(stack: Stack) -> dict[uuid.UUID, OutboxMessage]:
    with stack.db() as session:
        return {row.id: row for row in session.scalars(select(OutboxMessage))}


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


def fetch_as_another_worker(stack: Stack, row: OutboxMessage) -> RedisBroker:
    """Another worker process fetches the row's message and keeps it unacked."""
    assert isinstance(stack.broker, RedisBroker)
    other = RedisBroker(url=stack.settings.redis_url, namespace=stack.broker.namespace)  # type: ignore[no-untyped-call]
    send_row(stack.broker, row)
    queue = stack.broker.get_actor(row.actor).queue_name
    consumer = other.consume(queue, prefetch=1, timeout=100)
    deadline = time.monotonic() + 10
    message = None
    while message is None and time.monotonic() < deadline:
        message = next(consumer)
    assert message is not None and message.message_id == str(row.id)
    return other


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
    _dead_letter(stack, dead_lettered)
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


def _dead_letter(stack: Stack, row: OutboxMessage) -> None:
    """Fetch the row's message and reject it, as a worker does when it gives up."""
    assert isinstance(stack.broker, RedisBroker)
    send_row(stack.broker, row)
    queue = stack.broker.get_actor(row.actor).queue_name
    consumer = stack.broker.consume(queue, prefetch=1, timeout=100)
    deadline = time.monotonic() + 10
    message = None
    while message is None and time.monotonic() < deadline:
        message = next(consumer)
    assert message is not None and message.message_id == str(row.id)
    consumer.nack(message)
    (depth,) = inspector_of(stack.broker).depths((queue,))  # type: ignore[union-attr]
    assert depth.dead == 1


def test_without_a_redis_broker_age_alone_decides(unit_stack: Stack) -> None:
    # Given no worker and the StubBroker, which cannot be asked what it holds
    unit_stack.stop()
    old = add_row(unit_stack, actor="rebuild_calendar")
    done = add_row(unit_stack, actor="rebuild_calendar", done_at=OLD)
    young = add_row(unit_stack, actor="rebuild_calendar", sent_at=NOW)

    # When the reconciler runs
    report = reconcile(unit_stack.sessions, unit_stack.broker, now=NOW, older_than_seconds=AGE)

    # Then the old row not done is sent again, on age alone; the others are left
    assert (report.asked_broker, report.resent) == (False, 1)
    after = rows(unit_stack)
    assert (after[old.id].attempts, after[old.id].sent_at) == (2, NOW)
    assert after[done.id].attempts == after[young.id].attempts == 1
    assert unit_stack.broker.queues["calendar"].qsize() == 1  # type: ignore[attr-defined]


def _message(outbox_id: uuid.UUID, *, from_outbox: bool = True) -> MessageProxy:
    options = {OUTBOX_OPTION: True} if from_outbox else {}
    message: dramatiq.Message[None] = dramatiq.Message(
        queue_name="jobs",
        actor_name="process_job",
        args=(),
        kwargs={},
        options=options,
        message_id=str(outbox_id),
    )
    return MessageProxy(message)


def test_a_row_is_done_when_its_message_is_finished_for_good(unit_stack: Stack) -> None:
    # Given five sent rows and the middleware that marks them done
    unit_stack.stop()
    succeeded, retried, gave_up, skipped, foreign = (add_row(unit_stack) for _ in range(5))
    acks = OutboxAcks(unit_stack.settings.database_url)
    broker = unit_stack.broker

    # When their messages finish: one succeeded, one failed and will be
    # retried, one failed for good, one was skipped, one was not the outbox's
    acks.after_process_message(broker, _message(succeeded.id), result=None)
    acks.after_process_message(broker, _message(retried.id), exception=RuntimeError("again"))
    final = _message(gave_up.id)
    final.fail()
    acks.after_process_message(broker, final, exception=RuntimeError("no more retries"))
    acks.after_skip_message(broker, _message(skipped.id))
    acks.after_process_message(broker, _message(foreign.id, from_outbox=False), result=None)
    assert acks.flush() == 3

    # Then the finished ones are done; the one whose retry is coming is not
    after = rows(unit_stack)
    assert {row_id for row_id, row in after.items() if row.done_at is not None} == {
        succeeded.id,
        gave_up.id,
        skipped.id,
    }


def test_a_worker_marks_a_jobs_row_done(unit_stack: Stack) -> None:
    # Given an enrollment accepted and applied by the (in-process) worker
    key = unit_stack.key()
    published_event(unit_stack, key, ref="intro")
    enroll(unit_stack, key, "intro", "ada")
    unit_stack.drain()

    # Then, once the worker's middleware flushed, every outbox row is done
    def all_done() -> bool:
        with transaction(unit_stack.sessions) as session:
            return all(row.done_at for row in session.scalars(select(OutboxMessage)))

    wait_until(all_done, timeout=10, what="the outbox rows marked done")
    assert len(rows(unit_stack)) == 2  # the job's and its placement mails'
