"""Maintaining the calendar cache: targeted refreshes and full rebuilds.

Both paths call the same ``compute_rows`` over the source tables, so a rebuild
produces exactly what the incremental updates produced (a property test checks
it). Everything here runs on the caller's Connection with Core statements: it
is called from inside an ORM flush (domain.calendar.sync) and must not touch the
Session's identity map or trigger another flush.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping
from functools import lru_cache
from typing import Any, NamedTuple, cast

from sqlalchemy import (
    Connection,
    String,
    Table,
    Uuid,
    and_,
    delete,
    literal,
    null,
    select,
    union_all,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import Session, sessionmaker

from rollcall.domain.calendar.policy import (
    ACTIVE,
    EnrollmentFacts,
    EventFacts,
    OccurrenceFacts,
    build_rows,
    names_a_session,
)
from rollcall.models import (
    CalendarBookmark,
    CalendarEntry,
    Enrollment,
    Event,
    EventSession,
    Occurrence,
    Trainer,
)
from rollcall.models.base import new_id
from rollcall.models.bulk_insert import copy_rows
from rollcall.models.db import transaction
from rollcall.models.sql_lists import among, among_parameter

entries = cast(Table, CalendarEntry.__table__)
#: Bound the size of IN lists (SQLite allows 32k parameters; PG plans better small).
_CHUNK = 500
#: Attendees per refresh on PostgreSQL, where the list is one array parameter.
_PG_PEOPLE_CHUNK = 10_000


def _chunks(items: Collection[uuid.UUID], size: int = _CHUNK) -> Iterable[list[uuid.UUID]]:
    ordered = sorted(items)
    for start in range(0, len(ordered), size):
        yield ordered[start : start + size]


class Dated(NamedTuple):
    """Events and the dates whose cache rows are to be built (events without
    dates have no rows and are left out)."""

    events: list[EventFacts]
    occurrences: Mapping[uuid.UUID, list[OccurrenceFacts]]


def compute_rows(
    conn: Connection,
    *,
    event_ids: Collection[uuid.UUID],
    attendee_ids: Collection[uuid.UUID] | None = None,
    occurrence_ids: Collection[uuid.UUID] | None = None,
    dated: Dated | None = None,
) -> list[dict[str, Any]]:
    """The cache rows these events should have (all of them, or only the rows of
    some attendees, or only those of some occurrences). Reads only source
    tables; ``dated``: the events and dates the caller has read or just
    written (only those dates' rows are built), instead of reading them.

    A row depends only on its own date, its event and the event's people
    (domain.calendar.policy.build_rows), so building from some dates gives
    what building from all gives them. The events' sessions are read only
    when an enrollment names one: nothing else in a row depends on them."""
    if not event_ids:
        return []
    ids = list(event_ids)
    events, occurrences = _read_dated(conn, ids) if dated is None else dated
    if not occurrences:
        return []  # every cache row is a row of an occurrence: nothing to read further
    people = _read_people(conn, ids, attendee_ids)
    sessions: dict[uuid.UUID, dict[uuid.UUID, list[str] | None]] = defaultdict(dict)
    if any(names_a_session(e.scope_key) for held in people.enrollments.values() for e in held):
        sessions = _read_sessions(conn, ids)
    wanted = set(occurrence_ids) if occurrence_ids is not None else None
    rows: list[dict[str, Any]] = []
    for facts in events:
        if facts.id not in occurrences:
            continue  # no dates (or none given): no rows
        built = build_rows(
            facts,
            occurrences[facts.id],
            session_occurrences=sessions[facts.id],
            enrollments=people.enrollments[facts.id],
            trainers=people.trainers[facts.id],
            bookmarks=people.marks[facts.id],
            include_public=attendee_ids is None,
        )
        if wanted is not None:
            built = [row for row in built if row["occurrence_id"] in wanted]
        rows.extend(built)
    return rows


_EVENT_FACTS = (
    Event.id,
    Event.organisation_id,
    Event.type,
    Event.name,
    Event.timezone,
    Event.status,
    Event.cancelled,
)


def _read_events(conn: Connection, ids: list[uuid.UUID]) -> list[EventFacts]:
    return [
        EventFacts(*row) for row in conn.execute(select(*_EVENT_FACTS).where(Event.id.in_(ids)))
    ]


@lru_cache(maxsize=4)
def _dated_query(dialect: str) -> Any:
    return (
        select(
            Occurrence.id,
            Occurrence.starts_at,
            Occurrence.ends_at,
            Occurrence.cancelled.label("date_cancelled"),
            *_EVENT_FACTS,
        )
        .join_from(Occurrence, Event, Event.id == Occurrence.event_id)
        .where(among_parameter(dialect, Occurrence.event_id, "ids"))
    )


def _read_dated(conn: Connection, ids: list[uuid.UUID]) -> Dated:
    """The events that have dates, with all their dates: one statement, each
    date with its event's columns."""
    events: dict[uuid.UUID, EventFacts] = {}
    occurrences: dict[uuid.UUID, list[OccurrenceFacts]] = defaultdict(list)
    for row in conn.execute(_dated_query(conn.dialect.name), {"ids": ids}):
        date_id, starts_at, ends_at, date_cancelled, event_id = row[:5]
        occurrences[event_id].append(
            OccurrenceFacts(date_id, event_id, starts_at, ends_at, date_cancelled)
        )
        if event_id not in events:
            events[event_id] = EventFacts(*row[4:])
    return Dated(list(events.values()), occurrences)


def _read_sessions(
    conn: Connection, ids: list[uuid.UUID]
) -> dict[uuid.UUID, dict[uuid.UUID, list[str] | None]]:
    """Each event's sessions and the occurrences each covers (None: all)."""
    sessions: dict[uuid.UUID, dict[uuid.UUID, list[str] | None]] = defaultdict(dict)
    for s_row in conn.execute(
        select(EventSession.id, EventSession.event_id, EventSession.occurrence_ids).where(
            EventSession.event_id.in_(ids)
        )
    ):
        sessions[s_row.event_id][s_row.id] = s_row.occurrence_ids
    return sessions


class _People(NamedTuple):
    """Per event: active enrollments, trainers and bookmarks (of some attendees
    only, when the refresh names them)."""

    enrollments: dict[uuid.UUID, list[EnrollmentFacts]]
    trainers: dict[uuid.UUID, list[uuid.UUID]]
    marks: dict[uuid.UUID, list[tuple[uuid.UUID, uuid.UUID]]]


@lru_cache(maxsize=8)
def _people_query(dialect: str, *, some: bool) -> Any:
    """The events' (``ids``) active enrollments, trainers and bookmarks, of
    some attendees only (``people``) when ``some``; each row tagged with its
    kind. Built once per shape."""
    no_id, no_text = _typed_null(Uuid()), _typed_null(String())
    enrolled = select(
        literal("enrollment").label("kind"),
        Enrollment.event_id.label("event_id"),
        Enrollment.attendee_id.label("attendee_id"),
        Enrollment.id.label("item_id"),
        Enrollment.scope_key.label("scope_key"),
        Enrollment.status.label("status"),
    ).where(among_parameter(dialect, Enrollment.event_id, "ids"), Enrollment.status.in_(ACTIVE))
    trains = select(
        literal("trainer"), Trainer.event_id, Trainer.attendee_id, no_id, no_text, no_text
    ).where(among_parameter(dialect, Trainer.event_id, "ids"))
    marked = select(
        literal("bookmark"),
        CalendarBookmark.event_id,
        CalendarBookmark.attendee_id,
        CalendarBookmark.occurrence_id,
        no_text,
        no_text,
    ).where(among_parameter(dialect, CalendarBookmark.event_id, "ids"))
    if some:
        enrolled = enrolled.where(among_parameter(dialect, Enrollment.attendee_id, "people"))
        trains = trains.where(among_parameter(dialect, Trainer.attendee_id, "people"))
        marked = marked.where(among_parameter(dialect, CalendarBookmark.attendee_id, "people"))
    return union_all(enrolled, trains, marked)


def _read_people(
    conn: Connection, ids: list[uuid.UUID], attendee_ids: Collection[uuid.UUID] | None
) -> _People:
    """One statement: the events' active enrollments, trainers and bookmarks
    (of these attendees only, when named)."""
    query = _people_query(conn.dialect.name, some=attendee_ids is not None)
    params: dict[str, Any] = {"ids": ids}
    if attendee_ids is not None:
        params["people"] = sorted(attendee_ids)
    found = _People(defaultdict(list), defaultdict(list), defaultdict(list))
    for row in conn.execute(query, params):
        if row.kind == "enrollment":
            found.enrollments[row.event_id].append(
                EnrollmentFacts(row.item_id, row.attendee_id, row.scope_key, row.status)
            )
        elif row.kind == "trainer":
            found.trainers[row.event_id].append(row.attendee_id)
        else:
            found.marks[row.event_id].append((row.attendee_id, row.item_id))
    return found


def _typed_null(type_: Any) -> Any:
    """A typed NULL column, for the rows of a UNION that have no such value."""
    return sql_cast(null(), type_)


def _insert(conn: Connection, rows: list[dict[str, Any]]) -> int:
    copy_rows(conn, CalendarEntry, [{"id": new_id(), **row} for row in rows])
    return len(rows)


def refresh_calendar(
    conn: Connection,
    *,
    event_ids: Collection[uuid.UUID] = (),
    occurrences: Collection[tuple[uuid.UUID, uuid.UUID]] = (),
    pairs: Collection[tuple[uuid.UUID, uuid.UUID]] = (),
    locked: Collection[uuid.UUID] = (),
) -> int:
    """Recompute the cache rows of whole events, of (event, occurrence) pairs and of
    (event, attendee) pairs, in the caller's transaction. Returns rows written.

    On PostgreSQL the events' rows are locked first (in id order), the lock a
    seat change already takes: two transactions changing one event's calendar
    then compute one after the other, the second seeing the first's commit.
    Without it, an enrollment and a new date committed side by side would each
    miss the other's row. (SQLite serialises writers with BEGIN IMMEDIATE.)
    ``locked``: events whose rows the caller's transaction holds locked
    already (an enrollment's, domain.enrollment.group.lock_event); not locked again.
    """
    whole = set(event_ids)
    touched = whole | {event_id for event_id, _ in occurrences} | {e for e, _ in pairs}
    lock_events(conn, touched - set(locked))
    written = 0
    for chunk in _chunks(whole):
        conn.execute(delete(entries).where(entries.c.event_id.in_(chunk)))
        written += _insert(conn, compute_rows(conn, event_ids=chunk))
    written += _refresh_occurrences(conn, occurrences, whole=whole)
    written += _refresh_attendees(conn, pairs, whole=whole)
    return written


def lock_events(conn: Connection, event_ids: Collection[uuid.UUID]) -> None:
    """On PostgreSQL, lock the events' rows in id order (see ``refresh_calendar``;
    every insert of occurrences takes it too, domain.events.occurrences)."""
    if event_ids and conn.dialect.name == "postgresql":
        conn.execute(
            select(Event.id)
            .where(Event.id.in_(sorted(event_ids)))
            .order_by(Event.id)
            .with_for_update()
        )


def add_new_occurrences(conn: Connection, occurrences: Collection[OccurrenceFacts]) -> int:
    """Write the cache rows of occurrences just inserted with Core (expansion,
    explicit dates), which the flush listener (domain.calendar.sync) cannot see.
    ``occurrences``: the rows as inserted. Returns rows written.

    The caller holds the events' rows locked (domain.events.occurrences.
    insert_occurrences, the one writer of dates, takes ``lock_events`` before
    it reads the dates already there), so an enrollment committed beside the
    expansion cannot miss the new dates, nor the expansion miss the enrollment.

    Set-wise: one read of the events and their people per chunk of events, and
    one COPY; the occurrences themselves are not read back. Nothing is deleted
    first: the ids are new, so no cache row can name them. Rows of the events'
    other occurrences do not change: each row depends only on its own
    occurrence and the event's people (domain.calendar.policy.build_rows), so
    building from the new occurrences alone gives what a rebuild gives them
    (tests/component/test_expansion_calendar.py compares the two).
    """
    by_event: dict[uuid.UUID, list[OccurrenceFacts]] = defaultdict(list)
    for occurrence in occurrences:
        by_event[occurrence.event_id].append(occurrence)
    written = 0
    for chunk in _chunks(by_event):
        dated = Dated(_read_events(conn, chunk), {e: by_event[e] for e in chunk})
        written += _insert(conn, compute_rows(conn, event_ids=chunk, dated=dated))
    return written


def _refresh_occurrences(
    conn: Connection,
    occurrences: Collection[tuple[uuid.UUID, uuid.UUID]],
    *,
    whole: set[uuid.UUID],
) -> int:
    """Replace the rows of these (event, occurrence) pairs, but those of events
    refreshed whole."""
    by_event: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    for event_id, occ_id in occurrences:
        if event_id not in whole:
            by_event[event_id].add(occ_id)
    written = 0
    for event_id, occ_ids in by_event.items():
        for chunk in _chunks(occ_ids):
            conn.execute(delete(entries).where(entries.c.occurrence_id.in_(chunk)))
            written += _insert(
                conn, compute_rows(conn, event_ids=[event_id], occurrence_ids=set(chunk))
            )
    return written


def _refresh_attendees(
    conn: Connection,
    pairs: Collection[tuple[uuid.UUID, uuid.UUID]],
    *,
    whole: set[uuid.UUID],
) -> int:
    """Replace the rows of these (event, attendee) pairs, but those of events
    refreshed whole."""
    people: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    for event_id, attendee_id in pairs:
        if event_id not in whole:
            people[event_id].add(attendee_id)
    if not people:
        return 0
    # Every cache row is an occurrence's (NOT NULL, ON DELETE CASCADE): an
    # event without dates has none to replace, whoever enrolls in it. The
    # events and dates read here are the ones the rows are built from.
    dated = _read_dated(conn, list(people))
    size = _PG_PEOPLE_CHUNK if conn.dialect.name == "postgresql" else _CHUNK
    written = 0
    for facts in sorted(dated.events, key=lambda event: event.id):
        one = Dated([facts], {facts.id: dated.occurrences[facts.id]})
        for chunk in _chunks(people[facts.id], size):
            conn.execute(
                delete(entries).where(
                    and_(
                        entries.c.event_id == facts.id,
                        among(conn.dialect.name, entries.c.attendee_id, chunk),
                    )
                )
            )
            rows = compute_rows(conn, event_ids=[facts.id], attendee_ids=chunk, dated=one)
            written += _insert(conn, rows)
    return written


def rebuild_calendar(
    factory: sessionmaker[Session],
    *,
    organisation_id: uuid.UUID | None = None,
    batch_size: int = 100,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Rebuild the whole cache (or one organisation's) from the source tables.

    One transaction per batch of events, so a rebuild of a big organisation does
    not hold one huge transaction; each event's rows are replaced atomically.
    ``progress(done_events, total_events)`` is called after each batch. Returns
    the number of rows written.
    """
    with factory() as session:
        query = select(Event.id).order_by(Event.id)
        if organisation_id is not None:
            query = query.where(Event.organisation_id == organisation_id)
        event_ids = list(session.scalars(query))
    with transaction(factory) as session:
        # Rows whose event is gone are removed by the foreign keys; rows of an
        # organisation's events are replaced below. Nothing else can be stale.
        conn = session.connection()
        if organisation_id is None:
            conn.execute(delete(entries).where(entries.c.event_id.not_in(select(Event.id))))
    written = 0
    total = len(event_ids)
    for start in range(0, total, batch_size):
        batch = event_ids[start : start + batch_size]
        with transaction(factory) as session:
            written += refresh_calendar(session.connection(), event_ids=batch)
        if progress is not None:
            progress(min(start + batch_size, total), total)
    if progress is not None and total == 0:
        progress(0, 0)
    return written


def snapshot(conn: Connection) -> list[tuple[Any, ...]]:
    """Every cache row without its surrogate id, sorted: for comparisons in tests."""
    columns = [column for column in entries.columns if column.name != "id"]
    rows = conn.execute(select(*columns)).all()
    return sorted((tuple(row) for row in rows), key=repr)


def expected_snapshot(conn: Connection) -> list[tuple[Any, ...]]:
    """What ``snapshot`` would show after a rebuild, computed without writing."""
    names = [column.name for column in entries.columns if column.name != "id"]
    event_ids = list(conn.execute(select(Event.id)).scalars())
    rows = compute_rows(conn, event_ids=event_ids)
    return sorted((tuple(row[name] for name in names) for row in rows), key=repr)
