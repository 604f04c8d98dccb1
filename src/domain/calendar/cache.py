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
from typing import Any, NamedTuple, cast

from sqlalchemy import Connection, Table, and_, delete, select
from sqlalchemy.orm import Session, sessionmaker

from rollcall.domain.calendar.policy import (
    ACTIVE,
    EnrollmentFacts,
    EventFacts,
    OccurrenceFacts,
    build_rows,
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
from rollcall.models.sql_lists import among

entries = cast(Table, CalendarEntry.__table__)
#: Bound the size of IN lists (SQLite allows 32k parameters; PG plans better small).
_CHUNK = 500
#: Attendees per refresh on PostgreSQL, where the list is one array parameter.
_PG_PEOPLE_CHUNK = 10_000


def _chunks(items: Collection[uuid.UUID], size: int = _CHUNK) -> Iterable[list[uuid.UUID]]:
    ordered = sorted(items)
    for start in range(0, len(ordered), size):
        yield ordered[start : start + size]


def compute_rows(
    conn: Connection,
    *,
    event_ids: Collection[uuid.UUID],
    attendee_ids: Collection[uuid.UUID] | None = None,
    occurrence_ids: Collection[uuid.UUID] | None = None,
    given: Mapping[uuid.UUID, list[OccurrenceFacts]] | None = None,
) -> list[dict[str, Any]]:
    """The cache rows these events should have (all of them, or only the rows of
    some attendees, or only those of some occurrences). Reads only source
    tables; ``given``: each event's occurrences whose rows are wanted, as the
    caller has just written them (no other occurrence's rows are built)."""
    if not event_ids:
        return []
    ids = list(event_ids)
    events = _read_events(conn, ids)
    occurrences = _read_occurrences(conn, ids) if given is None else given
    if not occurrences:
        return []  # every cache row is a row of an occurrence: nothing to read further
    sessions = _read_sessions(conn, ids)
    people = _read_people(conn, ids, attendee_ids)
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


def _read_events(conn: Connection, ids: list[uuid.UUID]) -> list[EventFacts]:
    return [
        EventFacts(*row)
        for row in conn.execute(
            select(
                Event.id,
                Event.organisation_id,
                Event.type,
                Event.name,
                Event.timezone,
                Event.status,
                Event.cancelled,
            ).where(Event.id.in_(ids))
        )
    ]


def _read_occurrences(
    conn: Connection, ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[OccurrenceFacts]]:
    """Each event's occurrences (events without any are absent)."""
    occ_query = select(
        Occurrence.id,
        Occurrence.event_id,
        Occurrence.starts_at,
        Occurrence.ends_at,
        Occurrence.cancelled,
    ).where(Occurrence.event_id.in_(ids))
    occurrences: dict[uuid.UUID, list[OccurrenceFacts]] = defaultdict(list)
    for occ_row in conn.execute(occ_query):
        occurrences[occ_row.event_id].append(OccurrenceFacts(*occ_row))
    return occurrences


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


def _read_people(
    conn: Connection, ids: list[uuid.UUID], attendee_ids: Collection[uuid.UUID] | None
) -> _People:
    enr_query = select(
        Enrollment.event_id,
        Enrollment.id,
        Enrollment.attendee_id,
        Enrollment.scope_key,
        Enrollment.status,
    ).where(Enrollment.event_id.in_(ids), Enrollment.status.in_(ACTIVE))
    trainer_query = select(Trainer.event_id, Trainer.attendee_id).where(Trainer.event_id.in_(ids))
    mark_query = select(
        CalendarBookmark.event_id, CalendarBookmark.attendee_id, CalendarBookmark.occurrence_id
    ).where(CalendarBookmark.event_id.in_(ids))
    if attendee_ids is not None:
        dialect, people = conn.dialect.name, sorted(attendee_ids)
        enr_query = enr_query.where(among(dialect, Enrollment.attendee_id, people))
        trainer_query = trainer_query.where(among(dialect, Trainer.attendee_id, people))
        mark_query = mark_query.where(among(dialect, CalendarBookmark.attendee_id, people))
    enrollments: dict[uuid.UUID, list[EnrollmentFacts]] = defaultdict(list)
    for e_row in conn.execute(enr_query):
        enrollments[e_row.event_id].append(
            EnrollmentFacts(e_row.id, e_row.attendee_id, e_row.scope_key, e_row.status)
        )
    trainers: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for t_row in conn.execute(trainer_query):
        trainers[t_row.event_id].append(t_row.attendee_id)
    marks: dict[uuid.UUID, list[tuple[uuid.UUID, uuid.UUID]]] = defaultdict(list)
    for m_row in conn.execute(mark_query):
        marks[m_row.event_id].append((m_row.attendee_id, m_row.occurrence_id))
    return _People(enrollments, trainers, marks)


def _insert(conn: Connection, rows: list[dict[str, Any]]) -> int:
    copy_rows(conn, CalendarEntry, [{"id": new_id(), **row} for row in rows])
    return len(rows)


def refresh_calendar(
    conn: Connection,
    *,
    event_ids: Collection[uuid.UUID] = (),
    occurrences: Collection[tuple[uuid.UUID, uuid.UUID]] = (),
    pairs: Collection[tuple[uuid.UUID, uuid.UUID]] = (),
) -> int:
    """Recompute the cache rows of whole events, of (event, occurrence) pairs and of
    (event, attendee) pairs, in the caller's transaction. Returns rows written.

    On PostgreSQL the events' rows are locked first (in id order), the lock a
    seat change already takes: two transactions changing one event's calendar
    then compute one after the other, the second seeing the first's commit.
    Without it, an enrollment and a new date committed side by side would each
    miss the other's row. (SQLite serialises writers with BEGIN IMMEDIATE.)
    """
    whole = set(event_ids)
    lock_events(conn, whole | {event_id for event_id, _ in occurrences} | {e for e, _ in pairs})
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
    ``occurrences``: the rows as inserted (models.bulk_insert.insert_new_rows
    returns them). Returns rows written.

    Set-wise: one read of the events and their people per chunk of events, and
    one COPY; the occurrences themselves are not read back. Nothing is deleted
    first: the ids are new, so no cache row can name them. Rows of the events'
    other occurrences do not change: each row depends only on its own
    occurrence and the event's people (domain.calendar.policy.build_rows), so
    building from the new occurrences alone gives what a rebuild gives them (a
    property test checks it). The events are locked first, as
    ``refresh_calendar`` does, so an enrollment committed beside the expansion
    cannot miss the new dates (nor the expansion miss the enrollment).
    """
    by_event: dict[uuid.UUID, list[OccurrenceFacts]] = defaultdict(list)
    for occurrence in occurrences:
        by_event[occurrence.event_id].append(occurrence)
    lock_events(conn, by_event)
    written = 0
    for chunk in _chunks(by_event):
        given = {event_id: by_event[event_id] for event_id in chunk}
        written += _insert(conn, compute_rows(conn, event_ids=chunk, given=given))
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
    if people:
        # Every cache row is an occurrence's (NOT NULL, ON DELETE CASCADE): an
        # event without dates has none to replace, whoever enrolls in it.
        dated = set(
            conn.scalars(
                select(Occurrence.event_id).where(Occurrence.event_id.in_(list(people))).distinct()
            )
        )
        people = {e: ids for e, ids in people.items() if e in dated}
    size = _PG_PEOPLE_CHUNK if conn.dialect.name == "postgresql" else _CHUNK
    written = 0
    for event_id, attendee_ids in sorted(people.items()):
        for chunk in _chunks(attendee_ids, size):
            conn.execute(
                delete(entries).where(
                    and_(
                        entries.c.event_id == event_id,
                        among(conn.dialect.name, entries.c.attendee_id, chunk),
                    )
                )
            )
            written += _insert(conn, compute_rows(conn, event_ids=[event_id], attendee_ids=chunk))
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
