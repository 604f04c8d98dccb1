"""Reading an attendee's calendar from the cache, and toggling bookmarks.

The page is the attendee's personal rows merged with the organisation's public
rows, ordered by (starts_at, occurrence id), a personal row replacing the public
row of the same occurrence. Each side is read with its own keyset query on
``ix_calendar_entries_keyset`` limited to size + 1: the merged top size + 1 is
always inside the union of the two, so no OFFSET and no deep scans.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Select, Table, select, tuple_
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from domain.attendee_tokens import EndUser
from domain.calendar_cursor import CursorKey, encode_cursor
from domain.calendar_policy import SeatState, calls_to_action
from domain.calendar_query import CalendarQuery
from domain.enrollment import enrollment_refusal
from domain.errors import CalendarEntryNotFound
from models import CalendarBookmark, CalendarEntry, Event, Occurrence

entries = cast(Table, CalendarEntry.__table__)


@dataclass
class CalendarItem:
    row: Row[Any]
    event_ref: str | None
    seats: SeatState
    spots_available: int | None
    ctas: list[dict[str, Any]]
    cursor: str
    reminder_before_minutes: int | None = None

    @property
    def key(self) -> CursorKey:
        return (self.row.starts_at, self.row.occurrence_id)


@dataclass
class CalendarPage:
    items: list[CalendarItem] = field(default_factory=list)
    has_next_page: bool = False
    has_previous_page: bool = False

    @property
    def start_cursor(self) -> str | None:
        return self.items[0].cursor if self.items else None

    @property
    def end_cursor(self) -> str | None:
        return self.items[-1].cursor if self.items else None


def _side(user: EndUser, query: CalendarQuery, *, personal: bool) -> Select[Any]:
    stmt = select(entries).where(entries.c.organisation_id == user.organisation_id)
    if personal:
        stmt = stmt.where(entries.c.attendee_id == user.attendee_id)
        if query.bookmarked_only:
            stmt = stmt.where(entries.c.bookmarked.is_(True))
    else:
        stmt = stmt.where(entries.c.attendee_id.is_(None))
    stmt = stmt.where(entries.c.starts_at >= query.from_date)
    if query.to_date is not None:
        stmt = stmt.where(entries.c.starts_at <= query.to_date)
    if query.types:
        stmt = stmt.where(entries.c.event_type.in_(query.types))
    return stmt


def _sides(user: EndUser, query: CalendarQuery) -> list[Select[Any]]:
    sides = [_side(user, query, personal=True)]
    if not query.bookmarked_only:
        sides.append(_side(user, query, personal=False))
    return sides


def _keyset() -> Any:
    return tuple_(entries.c.starts_at, entries.c.occurrence_id)


def _window(
    session: Session,
    user: EndUser,
    query: CalendarQuery,
    *,
    bound: CursorKey | None,
    descending: bool,
    limit: int,
    inclusive: bool = False,
) -> list[Row[Any]]:
    """Up to ``limit`` merged entries strictly after (or before) ``bound``."""
    merged: dict[uuid.UUID, Row[Any]] = {}
    for index, stmt in enumerate(_sides(user, query)):
        if bound is not None:
            if descending:
                cond = _keyset() <= tuple_(*bound) if inclusive else _keyset() < tuple_(*bound)
            else:
                cond = _keyset() >= tuple_(*bound) if inclusive else _keyset() > tuple_(*bound)
            stmt = stmt.where(cond)
        order = (
            (entries.c.starts_at.desc(), entries.c.occurrence_id.desc())
            if descending
            else (entries.c.starts_at, entries.c.occurrence_id)
        )
        for row in session.execute(stmt.order_by(*order).limit(limit)):
            # The personal side is read first and wins over the public row.
            if index == 0 or row.occurrence_id not in merged:
                merged.setdefault(row.occurrence_id, row)
    ordered = sorted(
        merged.values(), key=lambda row: (row.starts_at, row.occurrence_id), reverse=descending
    )
    return ordered[:limit]


def list_calendar(
    session: Session, *, user: EndUser, query: CalendarQuery, now: datetime, secret: str
) -> CalendarPage:
    """One page of the attendee's calendar, with CTAs and pageInfo.

    With a cursor, the window is read *including* the cursor's own entry: when
    it is still there, it proves there are entries on the other side of the
    page without another query (the usual case); only if it vanished is the
    other side probed.
    """
    cursor = query.cursor
    rows = _window(
        session,
        user,
        query,
        bound=cursor,
        descending=query.backward,
        limit=query.size + (2 if cursor is not None else 1),
        inclusive=cursor is not None,
    )
    beyond_cursor = False
    if cursor is not None:
        if rows and (rows[0].starts_at, rows[0].occurrence_id) == cursor:
            rows = rows[1:]
            beyond_cursor = True
        else:
            beyond_cursor = bool(
                _window(
                    session,
                    user,
                    query,
                    bound=cursor,
                    descending=not query.backward,
                    limit=1,
                    inclusive=True,
                )
            )
    more = len(rows) > query.size
    rows = rows[: query.size]
    if query.backward:
        rows.reverse()
    page = CalendarPage(items=_decorate(session, user, rows, now=now, secret=secret))
    if query.backward:
        page.has_previous_page, page.has_next_page = more, beyond_cursor
    else:
        page.has_next_page, page.has_previous_page = more, beyond_cursor
    return page


def _decorate(
    session: Session, user: EndUser, rows: list[Row[Any]], *, now: datetime, secret: str
) -> list[CalendarItem]:
    """Attach what is read live: seats (Core-updated counters), refs and CTAs.

    Plain column reads, no ORM objects: this runs on every page.
    """
    if not rows:
        return []
    events = {
        event.id: event
        for event in session.execute(
            select(
                Event.id,
                Event.ref,
                Event.status,
                Event.cancelled,
                Event.registration_end,
                Event.booking_start,
                Event.max_subscriptions,
                Event.enrolled_count,
                Event.waiting_list,
                Event.booked_per_date,
                Event.reminder_before_minutes,
            ).where(Event.id.in_({row.event_id for row in rows}))
        )
    }
    per_date = [row.occurrence_id for row in rows if events[row.event_id].booked_per_date]
    occurrences = (
        {
            occ.id: occ
            for occ in session.execute(
                select(Occurrence.id, Occurrence.capacity, Occurrence.enrolled_count).where(
                    Occurrence.id.in_(per_date)
                )
            )
        }
        if per_date
        else {}
    )
    # enrollment_refusal reads only the event's status fields, which the row has.
    refusals = {
        event_id: enrollment_refusal(cast(Event, event), now=now) is None
        for event_id, event in events.items()
    }
    items = []
    for row in rows:
        event = events[row.event_id]
        if event.booked_per_date:
            occ = occurrences[row.occurrence_id]
            capacity = occ.capacity if occ.capacity is not None else event.max_subscriptions
            seats = SeatState(capacity, occ.enrolled_count, event.waiting_list)
        else:
            seats = SeatState(event.max_subscriptions, event.enrolled_count, event.waiting_list)
        spots = None if seats.capacity is None else max(seats.capacity - seats.enrolled, 0)
        bookmarked = bool(row.bookmarked) if row.attendee_id is not None else False
        ctas = calls_to_action(
            entry_id=row.occurrence_id,
            event_id=row.event_id,
            attendee_ref=user.attendee_ref,
            enrollment_id=row.enrollment_id,
            enrollment_status=row.enrollment_status,
            bookmarked=bookmarked,
            cancelled=bool(row.cancelled),
            registration_open=refusals[row.event_id],
            started=row.starts_at <= now,
            seats=seats,
        )
        key = (row.starts_at, row.occurrence_id)
        items.append(
            CalendarItem(
                row=row,
                event_ref=event.ref,
                seats=seats,
                spots_available=spots,
                ctas=ctas,
                cursor=encode_cursor(key, secret=secret),
                reminder_before_minutes=event.reminder_before_minutes,
            )
        )
    return items


def toggle_bookmark(session: Session, *, user: EndUser, entry_id: str, now: datetime) -> bool:
    """Bookmark the entry (an occurrence id) or remove its bookmark; returns the new state.

    The entry must be in the attendee's calendar (public or personal), else
    CalendarEntryNotFound. The cache follows through the flush listener.
    """
    try:
        occurrence_id = uuid.UUID(entry_id)
    except ValueError:
        raise CalendarEntryNotFound(entry=entry_id) from None
    visible = session.execute(
        select(entries.c.event_id)
        .where(
            entries.c.organisation_id == user.organisation_id,
            entries.c.occurrence_id == occurrence_id,
            (entries.c.attendee_id == user.attendee_id) | entries.c.attendee_id.is_(None),
        )
        .limit(1)
    ).first()
    if visible is None:
        raise CalendarEntryNotFound(entry=entry_id)
    existing = session.get(CalendarBookmark, (user.attendee_id, occurrence_id))
    if existing is not None:
        session.delete(existing)
        session.flush()
        return False
    session.add(
        CalendarBookmark(
            attendee_id=user.attendee_id,
            occurrence_id=occurrence_id,
            event_id=visible.event_id,
            created_at=now,
        )
    )
    session.flush()
    return True
