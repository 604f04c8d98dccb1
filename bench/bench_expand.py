"""Expanding daily recurring events over a one-year horizon into the database,
against a plain bulk insert of the same occurrence rows, measured in one run.

    python -m bench bench_expand
    BENCH_EVENTS=1000 BENCH_DATABASE_URL=postgresql://... python -m bench bench_expand

Defaults: 1,000 events, 365 days, a fresh SQLite file. Goal: ratio <= 2x.
The baseline gets its rows precomputed (no rule, no zone arithmetic) and inserts
them with one plain executemany; the expansion runs ``expand_event_occurrences``
(``expand_events``: the events loaded, each rule expanded with rrule in the
event's zone, ids made, one INSERT ... ON CONFLICT DO NOTHING executemany, the
events' spans and horizons updated), all in one transaction each.
"""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, insert, select, text
from sqlalchemy.orm import Session, sessionmaker

from rollcall.domain.events.occurrences import expand_events, occurrence_rows
from rollcall.domain.events.recurrence import expand
from rollcall.models import Event, Occurrence, Organisation, migrate
from rollcall.models.db import dispose_all, sessions_for, transaction

TIMEZONES = ("Europe/Amsterdam", "America/New_York", "Australia/Sydney", "UTC")


def _events(
    session_factory: sessionmaker[Session], organisation_id: uuid.UUID, count: int, now: datetime
) -> list[uuid.UUID]:
    ids: list[uuid.UUID] = []
    with transaction(session_factory) as session:
        for i in range(count):
            event = Event(
                organisation_id=organisation_id,
                name=f"Daily {i}",
                type="TRAINING",
                timezone=TIMEZONES[i % len(TIMEZONES)],
                status="published",
                recurrence={
                    "type": "daily",
                    "starts_on": "2027-01-01T09:00:00",
                    "duration_minutes": 60,
                    "interval": 1,
                    "ends": {"type": "never"},
                },
                created_at=now,
                updated_at=now,
                enrolled_count=0,
                waitlisted_count=0,
                settings={},
            )
            session.add(event)
            session.flush()
            ids.append(event.id)
    return ids


def main() -> None:
    events = int(os.environ.get("BENCH_EVENTS", "1000"))
    days = int(os.environ.get("BENCH_DAYS", "365"))
    url = os.environ.get("BENCH_DATABASE_URL")
    workdir = None
    if url is None:
        workdir = tempfile.TemporaryDirectory()
        url = f"sqlite:///{Path(workdir.name) / 'bench.db'}"
    migrate.upgrade(url)
    factory = sessions_for(url)
    now = datetime(2027, 1, 1, tzinfo=UTC)
    start = datetime(2026, 12, 31, tzinfo=UTC)
    until = start + timedelta(days=days + 1)
    with transaction(factory) as session:
        session.execute(delete(Occurrence))
        org = Organisation(name=f"bench-{uuid.uuid4().hex[:6]}", created_at=now)
        session.add(org)
        session.flush()
        org_id = org.id

    baseline_ids = _events(factory, org_id, events, now)
    expand_ids = _events(factory, org_id, events, now)

    # Baseline: the same rows, computed beforehand, inserted plainly.
    rows = []
    with factory() as session:
        for event_id in baseline_ids:
            event = session.get(Event, event_id)
            assert event is not None and event.recurrence is not None
            rows += occurrence_rows(
                event_id, expand(event.recurrence, event.timezone, start=start, end=until)
            )
    started = time.perf_counter()
    with transaction(factory) as session:
        session.execute(insert(Occurrence.__table__), rows)  # type: ignore[arg-type]
    baseline = time.perf_counter() - started

    started = time.perf_counter()
    created = 0
    with transaction(factory) as session:
        loaded = session.scalars(select(Event).where(Event.id.in_(expand_ids))).all()
        for event in loaded:
            event.expanded_until = start
        created = expand_events(session, events=loaded, until=until)
    expansion = time.perf_counter() - started

    with factory() as session:
        total = session.execute(text("SELECT count(*) FROM occurrences")).scalar_one()
    assert created == len(rows), (created, len(rows))
    assert total == 2 * len(rows)
    backend = url.split(":", 1)[0]
    print(f"backend={backend} events={events} days={days} occurrences={len(rows)}")
    print(f"plain bulk insert : {baseline:8.3f} s")
    print(f"rule expansion    : {expansion:8.3f} s")
    print(f"ratio             : {expansion / baseline:8.2f}x (goal <= 2x)")
    dispose_all()
    if workdir is not None:
        workdir.cleanup()


if __name__ == "__main__":
    main()
