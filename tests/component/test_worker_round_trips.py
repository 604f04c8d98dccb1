"""What a job costs the worker in outbox reads (issue 19): the outbox rows a
job's transactions wrote (its mails, webhooks, follow-up messages) are
enqueued as written once committed, never read back."""

from __future__ import annotations

from sqlalchemy import select

from rollcall.domain.jobs import actor_names
from rollcall.models import OutboxMessage
from tests.support.enrollment import person
from tests.support.factories import enroll, job, published_event
from tests.support.stack import Stack
from tests.support.statements import every_statement


def _worker_rows(stack: Stack) -> list[OutboxMessage]:
    """The outbox rows the worker wrote: all but the intake's job messages."""
    with stack.db() as session:
        rows = session.scalars(select(OutboxMessage)).all()
    return [row for row in rows if row.actor != actor_names.PROCESS_JOB]


def _reads_of(rows: list[OutboxMessage], seen: list[tuple[str, str]]) -> list[str]:
    forms = [form for row in rows for form in (str(row.id), row.id.hex)]
    return [
        statement
        for statement, parameters in seen
        if statement.startswith("select")
        and " from outbox" in statement
        and any(form in parameters for form in forms)
    ]


def test_an_enroll_jobs_messages_are_enqueued_without_reading_them_back(
    component_stack: Stack,
) -> None:
    # Given a published event
    key = component_stack.key()
    published_event(component_stack, key, ref="intro", max_subscriptions=5)
    component_stack.drain()

    # When an attendee is enrolled and the worker applies the job
    with every_statement() as seen:
        accepted = enroll(component_stack, key, "intro", "ada")
        component_stack.drain()

    # Then the job's follow-up messages were written and sent
    assert job(component_stack, key, accepted["id"])["status"] == "succeeded"
    written = _worker_rows(component_stack)
    assert written
    assert all(row.sent_at is not None for row in written)
    # And nothing read them back
    assert _reads_of(written, seen) == []


def test_a_bulk_jobs_chunk_messages_are_enqueued_without_reading_them_back(
    component_stack: Stack,
) -> None:
    # Given a published event
    key = component_stack.key()
    published_event(component_stack, key, ref="ev", max_subscriptions=5)
    component_stack.drain()

    # When a non-atomic bulk job (its chunks handed over at each commit) is applied
    with every_statement() as seen:
        response = component_stack.client.post(
            "/v1/events/ev/enrollments/bulk",
            headers=component_stack.auth(key),
            json={"atomic": False, "attendees": [person("ada"), person("bob")]},
        )
        assert response.status_code == 202, response.text
        component_stack.drain()

    # Then its messages were written and sent, and nothing read them back
    assert job(component_stack, key, response.json()["id"])["status"] == "succeeded"
    written = _worker_rows(component_stack)
    assert written
    assert all(row.sent_at is not None for row in written)
    assert _reads_of(written, seen) == []
