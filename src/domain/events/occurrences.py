"""Occurrences in the database: expansion of the rule over a rolling horizon,
explicit dates, listing, and keeping Event.starts_at / ends_at in step.

Expansion is idempotent twice over: it only looks at the window after
``Event.expanded_until``, and its one writer (``insert_occurrences``) locks the
events, then skips every (event_id, starts_at) already there, so a repeated or
concurrent run creates nothing twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from contextlib import nullcontext
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.orm import Session

from rollcall.domain.calendar.cache import add_new_occurrences, lock_events
from rollcall.domain.calendar.policy import OccurrenceFacts
from rollcall.domain.errors.events import OccurrenceNotFound, SessionOccurrenceRemoved
from rollcall.domain.events import recurrence
from rollcall.domain.jobs.row_guard import each_row
from rollcall.models import Event, EventSession, Occurrence
from rollcall.models.base import new_id
from rollcall.models.bulk_insert import copy_rows
from rollcall.models.sql_lists import among

#: At most this many occurrences are made for one event in one expansion (a
#: year of 48 daily timeslots fits); a rule starting decades ago is refused
#: (RecurrenceTooLarge) rather than filling the table.
MAX_OCCURRENCES_PER_EXPANSION = 20_000

#: Expansion runs ahead by this much beyond the horizon, so the scheduler's
#: daily pass finds each endless event needing work about once a day, not every tick.
EXPANSION_SLACK = timedelta(days=1)


def horizon_until(now: datetime, days: int) -> datetime:
    """Where the rolling horizon ends for ``now``."""
    return now + timedelta(days=days)


def occurrence_rows(event_id: uuid.UUID, spans: Sequence[recurrence.Span]) -> list[dict[str, Any]]:
    return [
        {
            "id": new_id(),
            "event_id": event_id,
            "starts_at": starts,
            "ends_at": ends,
            "cancelled": False,
            "capacity": None,
            "enrolled_count": 0,
            "waitlisted_count": 0,
        }
        for starts, ends in spans
    ]


def insert_occurrences(session: Session, rows: list[dict[str, Any]]) -> int:
    """Insert occurrence rows, skipping any (event_id, starts_at) already there
    (or given twice), and write their calendar rows in the same transaction (the
    flush listener does not see Core inserts); returns how many were new.

    Every insert of occurrences comes here, and locks the events' rows first (in
    id order, the lock a seat change and a calendar refresh take): a
    concurrent insert into the same events waits, then sees these rows. So the
    dates already there are read once and the new ones written by COPY, with
    no conflict left for an ON CONFLICT to catch (issue 19, bench_expand: an
    executemany of INSERT ... ON CONFLICT DO NOTHING cost 6x the COPY). The new
    rows' calendar rows are built from them, not read back."""
    if not rows:
        return 0
    session.flush()  # the events first: the writes below bypass the unit of work
    conn = session.connection()
    lock_events(conn, {row["event_id"] for row in rows})
    taken = _dates_there(session, rows)
    new: list[dict[str, Any]] = []
    for row in rows:
        key = (row["event_id"], row["starts_at"])
        if key not in taken:
            taken.add(key)
            new.append(row)
    copy_rows(conn, Occurrence, new)
    add_new_occurrences(
        conn,
        [
            OccurrenceFacts(
                row["id"], row["event_id"], row["starts_at"], row["ends_at"], row["cancelled"]
            )
            for row in new
        ],
    )
    return len(new)


def _dates_there(session: Session, rows: list[dict[str, Any]]) -> set[tuple[uuid.UUID, datetime]]:
    """The (event_id, starts_at) of the rows' events already stored within the
    rows' span of starts (one range of the unique index)."""
    starts = [row["starts_at"] for row in rows]
    dialect = session.get_bind().dialect.name
    query = select(Occurrence.event_id, Occurrence.starts_at).where(
        among(dialect, Occurrence.event_id, sorted({row["event_id"] for row in rows})),
        Occurrence.starts_at >= min(starts),
        Occurrence.starts_at <= max(starts),
    )
    return {(event_id, starts_at) for event_id, starts_at in session.execute(query)}


def expand_event_occurrences(session: Session, *, event: Event, until: datetime) -> int:
    """Create the event's occurrences up to ``until`` (exclusive); returns how many
    were new. Explicit-date events and windows already expanded are left alone."""
    return expand_events(session, events=[event], until=until)


def expand_events(
    session: Session, *, events: Sequence[Event], until: datetime, skip_bad: bool = False
) -> int:
    """``expand_event_occurrences`` for many events with one bulk insert (the
    scheduler's pass and the benchmark); returns how many occurrences were new.

    ``skip_bad`` (the scheduler's pass over an organisation): an event whose
    rule cannot be expanded (a date out of range, too many occurrences) is
    logged and skipped (domain.jobs.row_guard) and the others are expanded. Without
    it the error propagates, as a request creating that event must see it.
    """
    rows: list[dict[str, Any]] = []
    for event in events:
        with each_row(None, f"event {event.id} (expansion)") if skip_bad else nullcontext():
            rows += _expand_one(event, until)
    return insert_occurrences(session, rows)


def _expand_one(event: Event, until: datetime) -> list[dict[str, Any]]:
    if event.recurrence is None:
        return []
    begin = event.expanded_until or recurrence.first_start(event.recurrence, event.timezone)
    assert begin is not None
    if begin >= until:
        return []
    spans = recurrence.expand(
        event.recurrence,
        event.timezone,
        start=begin,
        end=until,
        limit=MAX_OCCURRENCES_PER_EXPANSION,
    )
    rows = occurrence_rows(event.id, spans)
    if spans:
        # The window only moves forward, so the span only widens; no query needed.
        first, last = spans[0][0], max(ends for _starts, ends in spans)
        starts_at = min(event.starts_at, first) if event.starts_at else first
        ends_at = max(event.ends_at, last) if event.ends_at else last
        # Set only once all of it worked: a skipped event is left as it was.
        event.starts_at, event.ends_at = starts_at, ends_at
    event.expanded_until = until
    return rows


def replace_occurrences(
    session: Session, *, event: Event, spans: Sequence[recurrence.Span] | None, until: datetime
) -> None:
    """Drop the event's occurrences and create them afresh from ``spans`` (explicit
    dates) or from its rule. Only for drafts (the lifecycle rules see to that).

    Sessions on specific occurrences are carried along: each keeps the new
    occurrence with the same start. A change that removes a date a session runs
    on raises SessionOccurrenceRemoved (the caller's transaction rolls back), so
    no session is left naming an occurrence that no longer exists.
    """
    old_start: dict[uuid.UUID, datetime] = {
        occurrence_id: starts
        for occurrence_id, starts in session.execute(
            select(Occurrence.id, Occurrence.starts_at).where(Occurrence.event_id == event.id)
        )
    }
    session.execute(delete(Occurrence).where(Occurrence.event_id == event.id))
    event.expanded_until = None
    event.starts_at = event.ends_at = None
    if spans is not None:
        insert_occurrences(session, occurrence_rows(event.id, spans))
        refresh_event_span(session, event=event)
    else:
        expand_event_occurrences(session, event=event, until=until + EXPANSION_SLACK)
    _carry_sessions(session, event=event, old_start=old_start)


def _carry_sessions(
    session: Session, *, event: Event, old_start: dict[uuid.UUID, datetime]
) -> None:
    """Point each session on specific occurrences at the new occurrences with the
    same starts; raise SessionOccurrenceRemoved for the dates that have none."""
    new_at: dict[datetime, uuid.UUID] = {
        starts: occurrence_id
        for starts, occurrence_id in session.execute(
            select(Occurrence.starts_at, Occurrence.id).where(Occurrence.event_id == event.id)
        )
    }
    removed: list[dict[str, Any]] = []
    for part in session.scalars(
        select(EventSession)
        .where(EventSession.event_id == event.id, EventSession.occurrence_ids.is_not(None))
        .order_by(EventSession.created_at, EventSession.id)
    ):
        starts = [old_start.get(uuid.UUID(value)) for value in part.occurrence_ids or []]
        gone = [start for start in starts if start is None or start not in new_at]
        if gone:
            shown = sorted(start.isoformat() for start in gone if start is not None)
            removed.append({"session_id": str(part.id), "name": part.name, "starts_at": shown})
            continue
        part.occurrence_ids = [str(new_at[start]) for start in starts if start is not None]
    if removed:
        raise SessionOccurrenceRemoved(sessions=removed)


def refresh_event_span(session: Session, *, event: Event) -> None:
    """Event.starts_at / ends_at = first start / last end of its live occurrences
    (of all of them when every one is cancelled; unchanged when it has none)."""
    for live_only in (True, False):
        query = select(func.min(Occurrence.starts_at), func.max(Occurrence.ends_at)).where(
            Occurrence.event_id == event.id
        )
        if live_only:
            query = query.where(Occurrence.cancelled.is_(False))
        first, last = session.execute(query).one()
        if first is not None:
            event.starts_at, event.ends_at = first, last
            return


def get_occurrence(session: Session, *, event: Event, occurrence_id: str) -> Occurrence:
    try:
        key = uuid.UUID(occurrence_id)
    except ValueError:
        raise OccurrenceNotFound(id=occurrence_id) from None
    occurrence = session.get(Occurrence, key)
    if occurrence is None or occurrence.event_id != event.id:
        raise OccurrenceNotFound(id=occurrence_id)
    return occurrence


def list_occurrences(
    session: Session,
    *,
    event: Event,
    start: datetime | None,
    end: datetime | None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[Occurrence]:
    """Occurrences starting in [start, end), by start, after the keyset ``after``."""
    query = select(Occurrence).where(Occurrence.event_id == event.id)
    if start is not None:
        query = query.where(Occurrence.starts_at >= start)
    if end is not None:
        query = query.where(Occurrence.starts_at < end)
    if after is not None:
        moment, last_id = after
        query = query.where(
            or_(
                Occurrence.starts_at > moment,
                and_(Occurrence.starts_at == moment, Occurrence.id > last_id),
            )
        )
    query = query.order_by(Occurrence.starts_at, Occurrence.id).limit(limit)
    return list(session.scalars(query))
