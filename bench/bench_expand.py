"""Expanding daily recurring events over a one-year horizon, the whole effect
(occurrences AND their calendar rows, events published), against the plain
way of writing the same rows: binary COPY of precomputed occurrence and
calendar rows.

    python -m bench bench_expand
    BENCH_EVENTS=300 BENCH_DAYS=365 BENCH_ROUNDS=3 python -m bench bench_expand

Each round expands a fresh set of events (a new organisation) on each side,
sides alternating, after a warm-up each, in a scratch database (bench.harness).
Goal (issue 19): at most 2x.
"""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bench.harness import (
    alternate,
    load_average,
    production_logging,
    ratio_line,
    scratch_database,
    spread,
)
from rollcall.domain.calendar.policy import EventFacts, OccurrenceFacts, build_rows
from rollcall.domain.events.occurrences import expand_events, occurrence_rows
from rollcall.domain.events.recurrence import expand
from rollcall.models import CalendarEntry, Event, Occurrence, Organisation
from rollcall.models.bulk_insert import copy_rows
from rollcall.models.db import sessions_for, transaction

TIMEZONES = ("Europe/Amsterdam", "America/New_York", "Australia/Sydney", "UTC")
NOW = datetime(2027, 1, 1, tzinfo=UTC)
START = datetime(2026, 12, 31, tzinfo=UTC)


def _events(factory: sessionmaker[Session], count: int) -> list[uuid.UUID]:
    with transaction(factory) as session:
        org = Organisation(name=f"bench-{uuid.uuid4().hex[:8]}", created_at=NOW)
        session.add(org)
        session.flush()
        events = [
            Event(
                organisation_id=org.id,
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
                expanded_until=START,
                created_at=NOW,
                updated_at=NOW,
                enrolled_count=0,
                waitlisted_count=0,
                settings={},
            )
            for i in range(count)
        ]
        session.add_all(events)
        session.flush()
        return [event.id for event in events]


def _plain_rows(
    factory: sessionmaker[Session], event_ids: list[uuid.UUID], until: datetime
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The occurrence and calendar rows of these events, computed beforehand."""
    occurrences: list[dict[str, Any]] = []
    calendar: list[dict[str, Any]] = []
    with factory() as session:
        for event in session.scalars(select(Event).where(Event.id.in_(event_ids))):
            assert event.recurrence is not None
            rows = occurrence_rows(
                event.id, expand(event.recurrence, event.timezone, start=START, end=until)
            )
            facts = EventFacts(
                event.id,
                event.organisation_id,
                event.type,
                event.name,
                event.timezone,
                event.status,
                event.cancelled,
            )
            occ_facts = [
                OccurrenceFacts(r["id"], r["event_id"], r["starts_at"], r["ends_at"], False)
                for r in rows
            ]
            built = build_rows(
                facts, occ_facts, session_occurrences={}, enrollments=(), trainers=(), bookmarks=()
            )
            occurrences += rows
            calendar += [{"id": uuid.uuid4(), **row} for row in built]
    return occurrences, calendar


def main() -> None:
    count = int(os.environ.get("BENCH_EVENTS", "300"))
    days = int(os.environ.get("BENCH_DAYS", "365"))
    until = START + timedelta(days=days + 1)
    print(load_average())
    log = Path(tempfile.mkdtemp(prefix="bench-expand-")) / "bench.log"
    production_logging(log)
    with scratch_database("expand") as url:
        factory = sessions_for(url)
        made: dict[str, int] = {}

        def expansion() -> float:
            ids = _events(factory, count)
            started = time.perf_counter()
            with transaction(factory) as session:
                loaded = session.scalars(select(Event).where(Event.id.in_(ids))).all()
                made["occurrences"] = expand_events(session, events=loaded, until=until)
            return time.perf_counter() - started

        def plain_copy() -> float:
            ids = _events(factory, count)
            occurrences, calendar = _plain_rows(factory, ids, until)
            started = time.perf_counter()
            with transaction(factory) as session:
                conn = session.connection()
                copy_rows(conn, Occurrence, occurrences)
                copy_rows(conn, CalendarEntry, calendar)
            made["plain"] = len(occurrences)
            return time.perf_counter() - started

        times = alternate({"expansion": expansion, "plain COPY": plain_copy})
        with factory() as session:
            public = session.scalar(select(func.count()).select_from(CalendarEntry))
            total = session.scalar(select(func.count()).select_from(Occurrence))
        # Every occurrence on both sides has its public calendar row.
        assert public == total, (public, total)
        assert made["occurrences"] == made["plain"], made
    print(f"events={count} days={days} occurrences per round={made['plain']} (+ as many calendar)")
    print(f"plain binary COPY : {spread(times['plain COPY'])} s")
    print(f"expand_events     : {spread(times['expansion'])} s")
    print(ratio_line("expansion vs COPY", times["expansion"], times["plain COPY"], "<= 2x"))
    print(f"log: {log}")
    print(load_average())


if __name__ == "__main__":
    main()
