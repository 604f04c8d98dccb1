"""Two transactions changing one event's calendar side by side on PostgreSQL."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from rollcall.domain.calendar.cache import expected_snapshot, snapshot
from rollcall.domain.events.occurrences import (
    expand_events,
    insert_occurrences,
    occurrence_rows,
)
from rollcall.models import Attendee, Enrollment, Event, Occurrence
from rollcall.models.db import sessions_for
from tests.support.calendar import BASE, NOW, add_attendee, add_event, new_date, org_id
from tests.support.stack import Stack

HOUR = timedelta(hours=1)


def _add_by_the_orm(session: Session, event_id: uuid.UUID, starts: datetime) -> None:
    session.add(new_date(event_id, starts))
    session.flush()


def _add_by_the_writer(session: Session, event_id: uuid.UUID, starts: datetime) -> None:
    # The one writer of dates, with the event's row left as it is: no UPDATE
    # of the event locks it (the writer's lock does, and so does the foreign
    # key's KEY SHARE on the event, which is why this case alone cannot tell
    # the writer's lock is there; the test of two writers below can)
    assert insert_occurrences(session, occurrence_rows(event_id, [(starts, starts + HOUR)])) == 1


@pytest.mark.parametrize("add_date", [_add_by_the_orm, _add_by_the_writer], ids=["orm", "writer"])
def test_a_new_date_and_an_enrollment_committed_together_both_reach_the_cache(
    real_stack: Stack, add_date: Callable[[Session, uuid.UUID, datetime], None]
) -> None:
    # Given a published event with one date and an attendee
    real_stack.key()
    with real_stack.db() as session:
        org = org_id(session)
        add_attendee(session, org, "ada")
        event_id = add_event(session, org, starts=[BASE]).id
    factory = sessions_for(real_stack.settings.database_url)

    # When one transaction adds a date and, before it commits, another enrolls ada
    first = factory()
    first.begin()
    add_date(first, event_id, BASE + timedelta(days=1))

    def enroll_ada() -> None:
        with factory() as second, second.begin():
            ada = second.scalars(select(Attendee).where(Attendee.ref == "ada")).one()
            event = second.get(Event, event_id)
            assert event is not None
            second.add(
                Enrollment(
                    organisation_id=event.organisation_id,
                    event_id=event_id,
                    attendee_id=ada.id,
                    scope_key="event",
                    status="enrolled",
                    requested_at=NOW,
                    request_seq=0,
                    created_at=NOW,
                    updated_at=NOW,
                )
            )

    # The enrollment's cache refresh waits for the first transaction's event
    # lock on PostgreSQL: the race helper waits until it does
    race(factory, first, enroll_ada, "the enrollment never waited for the event lock")

    # Then ada's calendar has both dates: the cache equals a rebuild
    with factory() as session:
        conn = session.connection()
        assert snapshot(conn) == expected_snapshot(conn)
        assert len(snapshot(conn)) == 4  # two public rows, two personal rows


def test_two_expansions_of_one_event_side_by_side_write_each_date_once(
    real_stack: Stack,
) -> None:
    # Given a published endless daily event with no dates yet
    real_stack.key()
    with real_stack.db() as session:
        org = org_id(session)
        event_id = add_event(
            session,
            org,
            starts=[],
            name="Daily",
            recurrence={"type": "daily", "starts_on": "2031-03-01T09:00:00"},
        ).id
    factory = sessions_for(real_stack.settings.database_url)
    until = BASE + timedelta(days=20)

    # When one transaction expands it 20 days ahead and, before it commits,
    # another expands the same window (the scheduler's two instances, say)
    first = factory()
    first.begin()
    made_first = expand_events(first, events=[_event(first, event_id)], until=until)
    made_second: list[int] = []

    def expand_again() -> None:
        with factory() as second, second.begin():
            made_second.append(
                expand_events(second, events=[_event(second, event_id)], until=until)
            )

    race(factory, first, expand_again, "the second expansion never waited for the event")

    # Then the second one waited, found every date written, and wrote none again
    assert made_first >= 19
    assert made_second == [0]
    with factory() as session:
        dates = session.scalars(select(Occurrence.starts_at).where(Occurrence.event_id == event_id))
        assert len(list(dates)) == made_first
        conn = session.connection()
        assert snapshot(conn) == expected_snapshot(conn)


def test_two_writers_of_one_date_side_by_side_write_it_once(real_stack: Stack) -> None:
    # Given a published event with one date
    real_stack.key()
    with real_stack.db() as session:
        org = org_id(session)
        event_id = add_event(session, org, starts=[BASE]).id
    factory = sessions_for(real_stack.settings.database_url)
    date = BASE + timedelta(days=2)

    # When one transaction writes a new date and, before it commits, another
    # writes the same date, neither touching the event's row (so only the
    # writer's own lock on the event orders them: the foreign key's KEY SHARE
    # locks do not exclude each other)
    first = factory()
    first.begin()
    made_first = insert_occurrences(first, occurrence_rows(event_id, [(date, date + HOUR)]))
    made_second: list[int] = []

    def write_again() -> None:
        with factory() as second, second.begin():
            rows = occurrence_rows(event_id, [(date, date + HOUR)])
            made_second.append(insert_occurrences(second, rows))

    race(factory, first, write_again, "the second writer never waited")

    # Then the second waited, found the date written, and wrote nothing (no
    # unique violation, no second row)
    assert (made_first, made_second) == (1, [0])
    with factory() as session:
        dates = session.scalars(select(Occurrence.starts_at).where(Occurrence.event_id == event_id))
        assert sorted(dates) == [BASE, date]
        conn = session.connection()
        assert snapshot(conn) == expected_snapshot(conn)


def _event(session: Session, event_id: object) -> Event:
    event = session.get(Event, event_id)
    assert event is not None
    return event


def race(
    factory: sessionmaker[Session], first: Session, second: Callable[[], None], never: str
) -> None:
    """Run ``second`` in a thread while ``first`` is open; once some backend is
    seen waiting for a lock (else fail with ``never``), commit ``first`` and
    let ``second`` finish."""
    other = threading.Thread(target=second)
    other.start()
    assert waiting_for_a_lock(factory), never
    first.commit()
    first.close()
    other.join(timeout=60)
    assert not other.is_alive()


def waiting_for_a_lock(factory: sessionmaker[Session], timeout: float = 30.0) -> bool:
    """True once some backend of this database waits for a lock (pg_stat_activity)."""
    deadline = time.monotonic() + timeout
    with factory() as probe:
        while time.monotonic() < deadline:
            waiting = probe.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE wait_event_type = 'Lock' AND datname = current_database()"
                )
            )
            probe.rollback()
            if waiting:
                return True
            time.sleep(0.02)  # polling a condition, not waiting for time to pass
    return False
