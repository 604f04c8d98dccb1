"""Event management on real parts: PostgreSQL, Redis, a Dramatiq worker, the SMTP sink."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from rollcall.domain.clock import utcnow
from rollcall.models import EmailMessage, Occurrence
from rollcall.scheduler import event_producers
from tests.support.event_helpers import call, ok, refused
from tests.support.factories import create_event, enroll, job, published_event
from tests.support.stack import Stack


def test_cancellation_mails_arrive_once_each(real_stack: Stack) -> None:
    # Given a published weekly event on PostgreSQL with 2 enrolled and 2 waitlisted
    key = real_stack.key()
    start = (utcnow() + timedelta(days=7)).strftime("%Y-%m-%dT18:00:00")
    published_event(
        real_stack,
        key,
        ref="weekly",
        max_subscriptions=2,
        waiting_list=True,
        recurrence={"type": "weekly", "starts_on": start, "ends": {"type": "after", "count": 4}},
    )
    for ref in ("ada", "bob", "cy", "dee"):
        enroll(real_stack, key, "weekly", ref)
    real_stack.drain()
    real_stack.sink.wait_for(4)

    # When one occurrence is cancelled, then the whole event
    first = ok(call(real_stack, key, "GET", "/v1/events/weekly/occurrences"))["items"][0]
    by_date = ok(
        call(real_stack, key, "POST", f"/v1/events/weekly/occurrences/{first['id']}/cancel"), 202
    )
    whole = ok(call(real_stack, key, "POST", "/v1/events/weekly/cancel"), 202)
    real_stack.drain()

    # Then each attendee got one mail per cancellation, over real SMTP
    assert job(real_stack, key, by_date["id"])["result"]["notified"] == 4
    assert job(real_stack, key, whole["id"])["result"]["notified"] == 4
    mails = real_stack.sink.wait_for(12)
    assert len(mails) == 12
    cancelled = [m for m in mails if m["Subject"].startswith(("Cancelled", "Date cancelled"))]
    per_person: dict[str, int] = {}
    for mail in cancelled:
        person = mail["To"].addresses[0].username
        per_person[person] = per_person.get(person, 0) + 1
    assert per_person == {"ada": 2, "bob": 2, "cy": 2, "dee": 2}

    # And redelivering the job messages sends nothing twice
    from rollcall.workers.actors import process_job

    process_job.send(whole["id"])
    process_job.send(by_date["id"])
    real_stack.drain()
    with real_stack.db() as session:
        assert (
            session.scalar(
                select(func.count())
                .select_from(EmailMessage)
                .where(EmailMessage.template.in_(("event_cancelled", "occurrence_cancelled")))
            )
            == 8
        )
    assert len(real_stack.sink.wait_for(13, timeout=1)) == 12
    refused(
        call(real_stack, key, "POST", "/v1/events/weekly/cancel"), 409, "EVENT_ALREADY_CANCELLED"
    )


def test_expansion_on_postgres_creates_nothing_twice(real_stack: Stack) -> None:
    # Given an endless daily event expanded 10 days ahead
    real_stack.settings.occurrence_horizon_days = 10
    key = real_stack.key()
    start = (utcnow() + timedelta(days=1)).strftime("%Y-%m-%dT07:15:00")
    create_event(
        real_stack,
        key,
        ref="daily",
        timezone="Australia/Sydney",
        recurrence={"type": "daily", "starts_on": start},
    )

    def starts() -> list[object]:
        with real_stack.db() as session:
            return list(session.scalars(select(Occurrence.starts_at)))

    before = len(starts())

    # When two schedulers plan the same tick 20 days later, and the job is redelivered
    later = utcnow() + timedelta(days=20)
    planned = [event_producers.plan_expansion(real_stack.settings, later) for _ in range(2)]
    real_stack.drain()
    from rollcall.domain.events.jobs import EXPAND_OCCURRENCES, apply_expand_occurrences
    from rollcall.domain.events.occurrences import expand_event_occurrences
    from rollcall.models import Event, Job

    with real_stack.db() as session:
        (expansion,) = session.scalars(select(Job).where(Job.type == EXPAND_OCCURRENCES)).all()
        # the window is already expanded; even a forced re-run inserts nothing new
        expanded = session.get(type(expansion), expansion.id)
        assert expanded is not None
        assert apply_expand_occurrences(session, expanded, later)["occurrences_created"] == 0
        # and re-expanding from scratch hits ON CONFLICT DO NOTHING for every date
        event = session.scalars(select(Event)).one()
        event.expanded_until = None
        assert expand_event_occurrences(session, event=event, until=later) == 0

    # Then exactly one job, and every start exists once
    assert planned == [1, 0]
    after = starts()
    assert len(after) == len(set(after))
    assert 19 <= len(after) - before <= 20


def test_lifecycle_refusals_on_postgres(real_stack: Stack) -> None:
    # Given a published event with two seats taken on PostgreSQL
    key = real_stack.key()
    published_event(real_stack, key, ref="pg", max_subscriptions=3)
    for ref in ("ada", "bob"):
        enroll(real_stack, key, "pg", ref)
    real_stack.drain()

    # Then each refusal has its own code, and allowed changes go through
    refused(
        call(real_stack, key, "PATCH", "/v1/events/pg", json={"name": "x"}), 409, "EVENT_NOT_DRAFT"
    )
    refused(
        call(real_stack, key, "PATCH", "/v1/events/pg", json={"max_subscriptions": 1}),
        409,
        "CAPACITY_BELOW_ENROLLED",
    )
    assert (
        ok(call(real_stack, key, "PATCH", "/v1/events/pg", json={"max_subscriptions": 2}))[
            "spots_available"
        ]
        == 0
    )
    refused(call(real_stack, key, "POST", "/v1/events/pg/unpublish"), 409, "EVENT_HAS_ENROLLMENTS")
    refused(call(real_stack, key, "DELETE", "/v1/events/pg"), 409, "EVENT_IS_PUBLISHED")
    copy = ok(call(real_stack, key, "POST", "/v1/events/pg/copy", json={"ref": "pg2"}), 201)
    assert (copy["status"], copy["enrolled_count"]) == ("draft", 0)
    assert ok(call(real_stack, key, "DELETE", "/v1/events/pg2")) == {"event_id": copy["id"]}
