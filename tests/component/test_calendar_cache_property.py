"""Cache consistency: after any sequence of writes through the ORM (each in its own
transaction, as the workers and routes do), the incrementally maintained cache
equals a full rebuild from the source tables."""

from __future__ import annotations

import shutil
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from rollcall.domain.calendar.cache import expected_snapshot, rebuild_calendar, snapshot
from rollcall.models import (
    CalendarBookmark,
    Enrollment,
    Event,
    EventSession,
    Occurrence,
    Organisation,
    Trainer,
)
from rollcall.models.db import dispose_all, sessions_for, transaction
from tests.support.calendar import BASE, NOW, add_attendee, new_date

N_PEOPLE = 2
N_EVENTS = 2

OPS = st.sampled_from(
    [
        "add_occurrence",
        "enroll",
        "add_occurrence",
        "move_occurrence",
        "cancel_occurrence",
        "delete_occurrence",
        "publish",
        "unpublish",
        "cancel_event",
        "rename",
        "retype",
        "enroll",
        "set_status",
        "delete_enrollment",
        "add_trainer",
        "remove_trainer",
        "add_session",
        "edit_session",
        "toggle_bookmark",
    ]
)
STEP = st.tuples(OPS, st.integers(0, 7), st.integers(0, 7), st.integers(0, 7))


class World:
    """Applies abstract operations to the database, skipping ones a real code
    path would refuse (duplicates the unique indexes forbid)."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory
        with transaction(factory) as session:
            org = Organisation(name="acme", created_at=NOW)
            session.add(org)
            session.flush()
            self.people = [add_attendee(session, org.id, f"p{i}").id for i in range(N_PEOPLE)]
            events = []
            for i in range(N_EVENTS):
                # Start from a lived-in state: the first event published, every
                # event with two dates, so short sequences already hit real rows.
                event = Event(
                    organisation_id=org.id,
                    name=f"E{i}",
                    status="published" if i == 0 else "draft",
                    timezone="UTC",
                    enrolled_count=0,
                    waitlisted_count=0,
                    settings={},
                    created_at=NOW,
                    updated_at=NOW,
                    type="TRAINING",
                )
                session.add(event)
                events.append(event)
            session.flush()
            for event in events:
                for hour in (0, 3):
                    session.add(
                        Occurrence(
                            event_id=event.id,
                            starts_at=BASE + timedelta(hours=hour),
                            ends_at=BASE + timedelta(hours=hour + 1),
                            cancelled=False,
                            enrolled_count=0,
                            waitlisted_count=0,
                        )
                    )
            session.add(
                EventSession(
                    event_id=events[0].id,
                    name="S",
                    created_at=NOW,
                    enrolled_count=0,
                    waitlisted_count=0,
                    occurrence_ids=None,
                )
            )
            session.flush()
            self.events = [event.id for event in events]

    def _pick(self, session: Session, model: Any, index: int) -> Any:
        rows = list(session.scalars(select(model).order_by(*model.__table__.primary_key)))
        return rows[index % len(rows)] if rows else None

    def apply(self, op: str, a: int, b: int, c: int) -> None:
        with transaction(self.factory) as session:
            getattr(self, op)(session, a, b, c)

    def add_occurrence(self, session: Session, a: int, b: int, _c: int) -> None:
        event_id = self.events[a % N_EVENTS]
        start = BASE + timedelta(hours=b)
        taken = session.scalar(
            select(Occurrence.id).where(
                Occurrence.event_id == event_id, Occurrence.starts_at == start
            )
        )
        if taken is None:
            session.add(new_date(event_id, start))

    def move_occurrence(self, session: Session, a: int, b: int, _c: int) -> None:
        occ = self._pick(session, Occurrence, a)
        start = BASE + timedelta(hours=b, minutes=30)
        clash = session.scalar(
            select(Occurrence.id).where(
                Occurrence.event_id == (occ.event_id if occ else None),
                Occurrence.starts_at == start,
            )
        )
        if occ is not None and clash is None:
            occ.starts_at, occ.ends_at = start, start + timedelta(hours=2)

    def cancel_occurrence(self, session: Session, a: int, _b: int, _c: int) -> None:
        occ = self._pick(session, Occurrence, a)
        if occ is not None:
            occ.cancelled = not occ.cancelled

    def delete_occurrence(self, session: Session, a: int, _b: int, _c: int) -> None:
        occ = self._pick(session, Occurrence, a)
        if occ is not None:
            session.delete(occ)

    def _event(self, session: Session, a: int) -> Event:
        event = session.get(Event, self.events[a % N_EVENTS])
        assert event is not None
        return event

    def publish(self, session: Session, a: int, _b: int, _c: int) -> None:
        self._event(session, a).status = "published"

    def unpublish(self, session: Session, a: int, _b: int, _c: int) -> None:
        self._event(session, a).status = "draft"

    def cancel_event(self, session: Session, a: int, _b: int, _c: int) -> None:
        event = self._event(session, a)
        event.cancelled = not event.cancelled

    def rename(self, session: Session, a: int, b: int, _c: int) -> None:
        self._event(session, a).name = f"Renamed {b}"

    def retype(self, session: Session, a: int, b: int, _c: int) -> None:
        self._event(session, a).type = ("WEBINAR", "MEETING", "COURSE")[b % 3]

    def enroll(self, session: Session, a: int, b: int, c: int) -> None:
        event_id = self.events[a % N_EVENTS]
        person = self.people[b % N_PEOPLE]
        kind = c % 3
        occurrence_id = session_id = None
        if kind == 0:
            scope = "event"
        elif kind == 1:
            occs = list(
                session.scalars(select(Occurrence.id).where(Occurrence.event_id == event_id))
            )
            if not occs:
                return
            occurrence_id = occs[c % len(occs)]
            scope = f"occ:{occurrence_id}"
        else:
            sess = list(
                session.scalars(select(EventSession.id).where(EventSession.event_id == event_id))
            )
            if not sess:
                return
            session_id = sess[c % len(sess)]
            scope = f"sess:{session_id}"
        exists = session.scalar(
            select(Enrollment.id).where(
                Enrollment.event_id == event_id,
                Enrollment.attendee_id == person,
                Enrollment.scope_key == scope,
                Enrollment.status.in_(("enrolled", "waitlisted")),
            )
        )
        if exists is not None:
            return
        event = self._event(session, a)
        session.add(
            Enrollment(
                organisation_id=event.organisation_id,
                event_id=event_id,
                attendee_id=person,
                occurrence_id=occurrence_id,
                session_id=session_id,
                scope_key=scope,
                status=("enrolled", "waitlisted")[c % 2],
                requested_at=NOW,
                request_seq=0,
                created_at=NOW,
                updated_at=NOW,
            )
        )

    def set_status(self, session: Session, a: int, b: int, _c: int) -> None:
        enrollment = self._pick(session, Enrollment, a)
        if enrollment is None:
            return
        status = ("enrolled", "waitlisted", "cancelled", "removed")[b % 4]
        if status in ("enrolled", "waitlisted") and enrollment.status not in (
            "enrolled",
            "waitlisted",
        ):
            return  # reactivating could clash with a newer active enrollment
        enrollment.status = status

    def delete_enrollment(self, session: Session, a: int, _b: int, _c: int) -> None:
        enrollment = self._pick(session, Enrollment, a)
        if enrollment is not None:
            session.delete(enrollment)

    def add_trainer(self, session: Session, a: int, b: int, _c: int) -> None:
        key = (self.events[a % N_EVENTS], self.people[b % N_PEOPLE])
        if session.get(Trainer, key) is None:
            session.add(Trainer(event_id=key[0], attendee_id=key[1]))

    def remove_trainer(self, session: Session, a: int, _b: int, _c: int) -> None:
        trainer = self._pick(session, Trainer, a)
        if trainer is not None:
            session.delete(trainer)

    def _subset(self, session: Session, event_id: uuid.UUID, mask: int) -> list[str] | None:
        if mask % 4 == 0:
            return None
        occs = list(session.scalars(select(Occurrence.id).where(Occurrence.event_id == event_id)))
        return [str(occ) for i, occ in enumerate(sorted(occs)) if mask >> i & 1]

    def add_session(self, session: Session, a: int, b: int, _c: int) -> None:
        event_id = self.events[a % N_EVENTS]
        session.add(
            EventSession(
                event_id=event_id,
                name=f"S{b}",
                created_at=NOW,
                enrolled_count=0,
                waitlisted_count=0,
                occurrence_ids=self._subset(session, event_id, b),
            )
        )

    def edit_session(self, session: Session, a: int, b: int, _c: int) -> None:
        item = self._pick(session, EventSession, a)
        if item is not None:
            item.occurrence_ids = self._subset(session, item.event_id, b)

    def toggle_bookmark(self, session: Session, a: int, b: int, _c: int) -> None:
        occ = self._pick(session, Occurrence, a)
        if occ is None:
            return
        person = self.people[b % N_PEOPLE]
        mark = session.get(CalendarBookmark, (person, occ.id))
        if mark is not None:
            session.delete(mark)
        else:
            session.add(
                CalendarBookmark(
                    attendee_id=person,
                    occurrence_id=occ.id,
                    event_id=occ.event_id,
                    created_at=NOW,
                )
            )


@pytest.fixture(scope="module")
def db_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("calendar-property")


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(STEP, min_size=5, max_size=30))
def test_rebuild_equals_incremental(
    steps: list[tuple[str, int, int, int]], sqlite_template: Path, db_dir: Path
) -> None:
    # Given a fresh database
    path = db_dir / f"{uuid.uuid4().hex}.db"
    shutil.copy(sqlite_template, path)
    factory = sessions_for(f"sqlite:///{path}")
    try:
        world = World(factory)
        # When a random sequence of writes is applied, each in its own transaction
        for step in steps:
            world.apply(*step)
            # Then after every write the cache is what a rebuild would produce
            with factory() as session:
                conn = session.connection()
                assert snapshot(conn) == expected_snapshot(conn), f"after {step}"
        with factory() as session:
            incremental = snapshot(session.connection())
        # And a real rebuild writes exactly the same rows
        rebuild_calendar(factory, batch_size=2)
        with factory() as session:
            rebuilt = snapshot(session.connection())
        assert incremental == rebuilt
    finally:
        dispose_all()
        path.unlink(missing_ok=True)


def test_the_property_sees_personal_and_public_rows(sqlite_template: Path, tmp_path: Path) -> None:
    """A fixed sequence, so the property is known to exercise non-empty caches."""
    path = tmp_path / "fixed.db"
    shutil.copy(sqlite_template, path)
    factory = sessions_for(f"sqlite:///{path}")
    world = World(factory)
    for step in [
        ("add_occurrence", 0, 1, 0),
        ("add_occurrence", 0, 2, 0),
        ("publish", 0, 0, 0),
        ("enroll", 0, 1, 0),
        ("add_session", 0, 1, 0),
        ("enroll", 0, 2, 2),
        ("add_trainer", 0, 0, 0),
    ]:
        world.apply(*step)
    with transaction(factory) as session:
        # A bookmark on one of E0's (public) dates, chosen explicitly: the
        # operations pick by primary key, and ids are random.
        occ = session.scalars(
            select(Occurrence).where(Occurrence.event_id == world.events[0])
        ).first()
        assert occ is not None
        session.add(
            CalendarBookmark(
                attendee_id=world.people[0],
                occurrence_id=occ.id,
                event_id=occ.event_id,
                created_at=NOW,
            )
        )
    with factory() as session:
        rows = snapshot(session.connection())
    rebuild_calendar(factory)
    with factory() as session:
        assert snapshot(session.connection()) == rows
    public = [row for row in rows if row[1] is None]
    personal = [row for row in rows if row[1] is not None]
    # E0 has four dates (two from the start, two added): p1 on all four (event
    # scope); p0 trains all four (and also holds a session seat on one)
    assert (len(public), len(personal)) == (4, 8)
    assert any(row[-1] for row in personal), "the bookmark shows on p0's entry"
