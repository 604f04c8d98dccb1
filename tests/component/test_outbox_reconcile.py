"""The reconciler and the done marks against the StubBroker, which cannot be
asked what it holds, so age alone decides (the choice itself is a unit test,
tests/unit/test_outbox_lost_rows.py; against a real Redis broker,
tests/integration/test_outbox_reconcile_redis.py).
"""

from __future__ import annotations

import uuid

import dramatiq
from dramatiq.broker import MessageProxy
from sqlalchemy import select

from rollcall.messaging.outbox_acks import OUTBOX_OPTION, OutboxAcks
from rollcall.messaging.outbox_reconcile import reconcile
from rollcall.models import OutboxMessage
from rollcall.models.db import transaction
from tests.support.factories import enroll, published_event
from tests.support.outbox import AGE, NOW, OLD, add_row, rows
from tests.support.stack import Stack
from tests.support.waiting import wait_until


def test_without_a_redis_broker_age_alone_decides(component_stack: Stack) -> None:
    # Given no worker and the StubBroker, which cannot be asked what it holds
    component_stack.stop()
    old = add_row(component_stack, actor="rebuild_calendar")
    done = add_row(component_stack, actor="rebuild_calendar", done_at=OLD)
    young = add_row(component_stack, actor="rebuild_calendar", sent_at=NOW)

    # When the reconciler runs
    report = reconcile(
        component_stack.sessions, component_stack.broker, now=NOW, older_than_seconds=AGE
    )

    # Then the old row not done is sent again, on age alone; the others are left
    assert (report.asked_broker, report.resent) == (False, 1)
    after = rows(component_stack)
    assert (after[old.id].attempts, after[old.id].sent_at) == (2, NOW)
    assert after[done.id].attempts == after[young.id].attempts == 1
    assert component_stack.broker.queues["calendar"].qsize() == 1  # type: ignore[attr-defined]


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


def test_a_row_is_done_when_its_message_is_finished_for_good(component_stack: Stack) -> None:
    # Given five sent rows and the middleware that marks them done
    component_stack.stop()
    succeeded, retried, gave_up, skipped, foreign = (add_row(component_stack) for _ in range(5))
    acks = OutboxAcks(component_stack.settings.database_url)
    broker = component_stack.broker

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
    after = rows(component_stack)
    assert {row_id for row_id, row in after.items() if row.done_at is not None} == {
        succeeded.id,
        gave_up.id,
        skipped.id,
    }


def test_a_worker_marks_a_jobs_row_done(component_stack: Stack) -> None:
    # Given an enrollment accepted and applied by the (in-process) worker
    key = component_stack.key()
    published_event(component_stack, key, ref="intro")
    enroll(component_stack, key, "intro", "ada")
    component_stack.drain()

    # Then, once the worker's middleware flushed, every outbox row is done
    def all_done() -> bool:
        with transaction(component_stack.sessions) as session:
            return all(row.done_at for row in session.scalars(select(OutboxMessage)))

    wait_until(all_done, timeout=10, what="the outbox rows marked done")
    assert len(rows(component_stack)) == 2  # the job's and its placement mails'
