"""Two transactions changing one event's calendar side by side on PostgreSQL."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from rollcall.domain.calendar.cache import expected_snapshot, snapshot
from rollcall.domain.events.occurrences import expand_events
from rollcall.models import Attendee, Enrollment, Event, Occurrence
from rollcall.models.db import sessions_for
from tests.support.calendar import BASE, NOW, add_attendee, add_event, org_id
from tests.support.stack import Stack


def test_a_new_date_and_an_enrollment_committed_together_both_reach_the_cache(
    real_stack: Stack,
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
    first.add(
        Occurrence(
            event_id=event_id,
            starts_at=BASE + timedelta(days=1),
            ends_at=BASE + timedelta(days=1, hours=1),
            cancelled=False,
            enrolled_count=0,
            waitlisted_count=0,
        )
    )
    first.flush()

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

    other = threading.Thread(target=enroll_ada)
    other.start()
    # The enrollment's cache refresh waits for the first transaction's event
    # lock on PostgreSQL: wait until it does, so the race is really exercised
    assert waiting_for_a_lock(factory), "the enrollment never waited for the event lock"
    first.commit()
    first.close()
    other.join(timeout=60)
    assert not other.is_alive()

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

    other = threading.Thread(target=expand_again)
    other.start()
    assert waiting_for_a_lock(factory), "the second expansion never waited for the event"
    first.commit()
    first.close()
    other.join(timeout=60)
    assert not other.is_alive()

    # Then the second one waited, found every date written, and wrote none again
    assert made_first >= 19
    assert made_second == [0]
    with factory() as session:
        dates = session.scalars(select(Occurrence.starts_at).where(Occurrence.event_id == event_id))
        assert len(list(dates)) == made_first
        conn = session.connection()
        assert snapshot(conn) == expected_snapshot(conn)


def _event(session: Session, event_id: object) -> Event:
    event = session.get(Event, event_id)
    assert event is not None
    return event


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
