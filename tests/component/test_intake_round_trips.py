"""What one accepted job costs the intake in database round trips (issue 19):
the outbox rows a request wrote are enqueued as written, not read back."""

from __future__ import annotations

from sqlalchemy import select

from rollcall.models import OutboxMessage
from tests.support.factories import enroll, job, published_event
from tests.support.stack import Stack
from tests.support.statements import every_statement


def test_a_202_enqueues_its_outbox_row_without_reading_it_back(component_stack: Stack) -> None:
    # Given a published event
    key = component_stack.key()
    published_event(component_stack, key, ref="intro", max_subscriptions=5)

    # When an attendee is enrolled through the API
    with every_statement() as seen:
        accepted = enroll(component_stack, key, "intro", "ada")

    # Then its outbox row is marked sent
    with component_stack.db() as session:
        rows = session.scalars(select(OutboxMessage)).all()
        ours = [row for row in rows if row.args == [accepted["id"]]]
    assert [row.sent_at is not None for row in ours] == [True]
    # And nothing read that row back
    forms = (str(ours[0].id), ours[0].id.hex)
    reads = [
        statement
        for statement, parameters in seen
        if statement.startswith("select")
        and " from outbox" in statement
        and any(form in parameters for form in forms)
    ]
    assert reads == []
    # And the message reached the worker, which applied the job
    component_stack.drain()
    assert job(component_stack, key, accepted["id"])["status"] == "succeeded"


def test_a_job_without_an_idempotency_key_takes_no_savepoint(component_stack: Stack) -> None:
    # Given a published event, the worker idle and nothing sent to it (its
    # own statements would mix with the request's)
    key = component_stack.key()
    published_event(component_stack, key, ref="intro", max_subscriptions=5)
    component_stack.drain()
    component_stack.settings.enqueue_on_commit = False

    # When an attendee is enrolled without an Idempotency-Key
    with every_statement() as seen:
        enroll(component_stack, key, "intro", "ada")

    # Then no savepoint was taken (there is no key to race for)
    assert [s for s, _parameters in seen if s.startswith("savepoint")] == []
