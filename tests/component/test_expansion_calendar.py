"""Occurrences written with Core INSERTs (horizon expansion, explicit dates)
get their calendar rows in the same transaction: right after the scheduler's
expansion pass the cache equals a fresh rebuild, without waiting for the hourly
rebuild. Collected again on PostgreSQL by
tests/integration/test_expansion_calendar_postgres.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from rollcall.domain.access.keys import get_or_create_organisation
from rollcall.domain.calendar.cache import expected_snapshot, snapshot
from rollcall.domain.events.catalog import create_event, publish_event
from rollcall.domain.events.occurrences import expand_events, insert_occurrences, occurrence_rows
from rollcall.models import CalendarEntry, Enrollment, Event, Occurrence, Trainer
from rollcall.models.db import transaction
from tests.support.calendar import add_attendee
from tests.support.enroll_groups import database

db = database("sqlite")

T0 = datetime(2031, 1, 5, 8, 0, tzinfo=UTC)


def _public_rows(session: Session) -> int:
    query = select(func.count()).select_from(CalendarEntry)
    return int(session.scalar(query.where(CalendarEntry.attendee_id.is_(None))) or 0)


def test_expansion_writes_the_cache_rows_of_the_new_occurrences(
    db: sessionmaker[Session],
) -> None:
    # Given a published endless daily event expanded 10 days ahead, with a
    # trainer and an attendee enrolled in the whole event
    with transaction(db) as session:
        org = get_or_create_organisation(session, name="acme", now=T0)
        event = create_event(
            session,
            organisation_id=org.id,
            fields={
                "name": "Daily",
                "timezone": "UTC",
                "max_subscriptions": 10,
                "recurrence": {"type": "daily", "starts_on": "2031-01-06T09:00:00"},
            },
            now=T0,
            horizon_until=T0 + timedelta(days=10),
        )
        publish_event(session, event=event, now=T0)
        session.flush()
        trainer = add_attendee(session, org.id, "trainer")
        student = add_attendee(session, org.id, "student")
        session.add(Trainer(event_id=event.id, attendee_id=trainer.id))
        session.add(
            Enrollment(
                organisation_id=org.id,
                event_id=event.id,
                attendee_id=student.id,
                scope_key="event",
                status="enrolled",
                requested_at=T0,
                request_seq=0,
                created_at=T0,
                updated_at=T0,
            )
        )
        event_id = event.id
    with db() as session:
        before = _public_rows(session)
        assert before == session.scalar(select(func.count()).select_from(Occurrence))
        assert snapshot(session.connection()) == expected_snapshot(session.connection())

    # When the scheduler's pass expands it 40 days ahead
    with transaction(db) as session:
        events = session.scalars(select(Event).where(Event.id == event_id)).all()
        created = expand_events(session, events=events, until=T0 + timedelta(days=41))

    # Then every new occurrence has its public, trainer and attendee rows at once
    assert created >= 29
    with db() as session:
        assert _public_rows(session) == before + created
        assert snapshot(session.connection()) == expected_snapshot(session.connection())


def test_a_repeated_expansion_writes_no_row_twice(db: sessionmaker[Session]) -> None:
    # Given a published daily event and an expansion that already ran
    with transaction(db) as session:
        org = get_or_create_organisation(session, name="acme", now=T0)
        event = create_event(
            session,
            organisation_id=org.id,
            fields={
                "name": "Daily",
                "timezone": "UTC",
                "recurrence": {"type": "daily", "starts_on": "2031-01-06T09:00:00"},
            },
            now=T0,
            horizon_until=T0 + timedelta(days=10),
        )
        publish_event(session, event=event, now=T0)
        event_id = event.id
    with transaction(db) as session:
        events = session.scalars(select(Event).where(Event.id == event_id)).all()
        expand_events(session, events=events, until=T0 + timedelta(days=20))

    # When the same window is expanded again from a stale horizon (ON CONFLICT skips every date)
    with transaction(db) as session:
        (event,) = session.scalars(select(Event).where(Event.id == event_id)).all()
        event.expanded_until = T0
        assert expand_events(session, events=[event], until=T0 + timedelta(days=20)) == 0

    # Then the cache still equals a rebuild: no row of a date that was skipped
    with db() as session:
        assert snapshot(session.connection()) == expected_snapshot(session.connection())


def test_a_date_given_twice_or_already_there_is_written_once(db: sessionmaker[Session]) -> None:
    # Given a published event with one date
    first = T0 + timedelta(days=1)
    hour = timedelta(hours=1)
    with transaction(db) as session:
        org = get_or_create_organisation(session, name="acme", now=T0)
        event = create_event(
            session,
            organisation_id=org.id,
            fields={"name": "Dated", "timezone": "UTC"},
            dates=[(first, first + hour)],
            now=T0,
        )
        publish_event(session, event=event, now=T0)
        event_id = event.id

    # When one insert names that date again, and a new date twice
    second = T0 + timedelta(days=2)
    spans = [(first, first + hour), (second, second + hour), (second, second + hour)]
    with transaction(db) as session:
        created = insert_occurrences(session, occurrence_rows(event_id, spans))

    # Then only the new date is written, once, with its one calendar row
    assert created == 1
    with db() as session:
        starts = session.scalars(
            select(Occurrence.starts_at).where(Occurrence.event_id == event_id)
        ).all()
        assert sorted(starts) == [first, second]
        assert _public_rows(session) == 2
        assert snapshot(session.connection()) == expected_snapshot(session.connection())
