"""One organisation's bad row never stops a producer for the others (SQLite,
StubBroker, time injected; what a tick records in Redis is in
tests/integration/test_scheduler_ticks.py). The end-to-end proof with a real scheduler,
worker and SMTP sink is in tests/integration/test_scheduler_isolation_end_to_end.py."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from rollcall.domain.clock import utcnow
from rollcall.domain.jobs.outbox import add_message
from rollcall.domain.jobs.row_guard import counting_skips
from rollcall.models import Event, Job, Occurrence, OutboxMessage
from rollcall.scheduler.event_producers import plan_expansion
from rollcall.scheduler.producers import relay_outbox
from rollcall.scheduler.reminder_producers import produce_reminders
from tests.support.factories import create_event, published_event
from tests.support.odd_rows import YEAR_1, move_to_year_1
from tests.support.reminders import seed_enrollments
from tests.support.stack import Stack

START = datetime(2027, 3, 2, 9, 0, tzinfo=UTC)
MOMENT = START - timedelta(minutes=60)


def test_a_year_1_event_is_skipped_and_the_others_get_their_reminder(
    component_stack: Stack,
) -> None:
    # Given, in one organisation, a published event moved to year 1 with a
    # reminder, and in another a normal event due at MOMENT with ada enrolled
    odd_key, key = component_stack.key("odd"), component_stack.key("acme")
    for stack_key, ref in ((odd_key, "ancient"), (key, "normal")):
        published_event(
            component_stack,
            stack_key,
            ref=ref,
            starts_at=START.isoformat(),
            ends_at=(START + timedelta(hours=1)).isoformat(),
            reminder_before_minutes=60,
        )
    ancient = published_id(component_stack, odd_key, "ancient")
    move_to_year_1(component_stack, ancient)
    with component_stack.db() as session:
        seed_enrollments(
            session,
            published_id(component_stack, key, "normal"),
            [("ada", "Ada", "enrolled", MOMENT - timedelta(days=1), "event")],
        )

    # When the reminder producer ticks at the normal event's moment
    with counting_skips() as skipped:
        recorded = produce_reminders(component_stack.settings, now=MOMENT)
    component_stack.drain()

    # Then the normal run was recorded and sent; the year-1 row was skipped and counted
    assert recorded == 1
    assert [m["To"].addresses[0].addr_spec for m in component_stack.sink.wait_for(1)] == [
        "ada@example.org"
    ]
    (skip,) = skipped
    assert skip.what.endswith("(before reminder)") and skip.error.startswith("OverflowError")


def published_id(stack: Stack, key: str, ref: str) -> str:
    response = stack.client.get(f"/v1/events/{ref}", headers=stack.auth(key))
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def test_the_relay_passes_a_row_it_cannot_send(component_stack: Stack) -> None:
    # Given, oldest first, an outbox row naming an actor nobody declares, then two good ones
    old = utcnow() - timedelta(minutes=5)
    with component_stack.db() as session:
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
        sent = relay_outbox(component_stack.settings)

    # Then the good rows went out, the bad one was skipped and counted, and stays unsent
    assert sent == 2
    assert [s.what.split(" to ")[1] for s in skipped] == ["no_such_actor"]
    with component_stack.db() as session:
        unsent = session.scalars(select(OutboxMessage.actor).where(OutboxMessage.sent_at.is_(None)))
        assert list(unsent) == ["no_such_actor"]


def test_an_event_whose_rule_cannot_be_expanded_is_skipped_the_others_expand(
    component_stack: Stack,
) -> None:
    # Given two endless daily events of one organisation, one of them moved
    # (straight in the database) to a rule starting in year 1 west of Greenwich
    key = component_stack.key()
    tomorrow = (utcnow() + timedelta(days=1)).strftime("%Y-%m-%dT09:00:00")
    rule = {"type": "daily", "starts_on": tomorrow, "duration_minutes": 60}
    rule |= {"ends": {"type": "never"}}
    good, odd = (
        create_event(component_stack, key, ref=ref, recurrence=rule, timezone="America/New_York")[
            "id"
        ]
        for ref in ("good", "odd")
    )
    with component_stack.db() as session:
        session.execute(
            update(Event)
            .where(Event.id == uuid.UUID(odd))
            .values(recurrence=rule | {"starts_on": "0001-01-01T00:10:00"}, expanded_until=YEAR_1)
        )
        before = occurrences_of(session, good)

    # When the scheduler plans an expansion beyond the current horizon, and the worker runs it
    assert plan_expansion(component_stack.settings, utcnow() + timedelta(days=30)) == 1
    component_stack.drain()

    # Then the good event was expanded, and the job names the event it skipped
    with component_stack.db() as session:
        assert occurrences_of(session, good) > before
        (job_row,) = session.scalars(select(Job).where(Job.type == "expand_occurrences"))
        assert job_row.status == "succeeded", job_row.errors
        (skipped,) = job_row.result["skipped"]
    assert skipped["row"] == f"event {odd} (expansion)"
    assert skipped["error"].startswith("OverflowError")


def occurrences_of(session: Session, event_id: str) -> int:
    query = select(func.count()).where(Occurrence.event_id == uuid.UUID(event_id))
    return int(session.scalar(query) or 0)
