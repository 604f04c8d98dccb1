"""The keyset window of an attendee's calendar: one statement reads up to
``limit`` merged entries (personal rows, and the organisation's public rows a
personal row does not replace) after or before a bound.

Each side is read with its own keyset query on ``ix_calendar_entries_keyset``
limited to the window size: the merged top rows are always inside the union of
the two, so no OFFSET and no deep scans.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple, cast

from sqlalchemy import Integer, Select, Table, bindparam, exists, select, tuple_, union_all
from sqlalchemy.orm import Session

from rollcall.domain.access.attendee_tokens import EndUser
from rollcall.domain.calendar.cursor import CursorKey
from rollcall.domain.calendar.query import CalendarQuery
from rollcall.models import CalendarEntry, Event

entries = cast(Table, CalendarEntry.__table__)


class CalendarRow(NamedTuple):
    """One entry of a page: the cache row's columns, then the event's live ones."""

    attendee_id: uuid.UUID | None
    occurrence_id: uuid.UUID
    event_id: uuid.UUID
    starts_at: datetime
    ends_at: datetime
    event_type: str
    title: str
    timezone: str
    event_status: str
    cancelled: bool
    enrollment_id: uuid.UUID | None
    enrollment_status: str | None
    is_trainer: bool
    bookmarked: bool
    event_ref: str | None
    live_status: str
    live_cancelled: bool
    registration_end: datetime | None
    booking_start: datetime | None
    booking_start_offset_minutes: int | None
    booking_end_offset_minutes: int | None
    max_subscriptions: int | None
    event_enrolled: int
    waiting_list: bool
    booked_per_date: bool
    reminder_before_minutes: int | None
    #: The event's own span and rule, live: a page's booking windows need them
    #: for events booked as a whole (domain.enrollment.admission.whole_span).
    event_starts_at: datetime | None
    event_ends_at: datetime | None
    recurrence: dict[str, Any] | None
    live_timezone: str


#: Read with every entry (joined by primary key): what CTAs and seats need, live.
_EVENT_COLUMNS = (
    Event.ref.label("event_ref"),
    Event.status.label("live_status"),
    Event.cancelled.label("live_cancelled"),
    Event.registration_end.label("registration_end"),
    Event.booking_start.label("booking_start"),
    Event.booking_start_offset_minutes.label("booking_start_offset_minutes"),
    Event.booking_end_offset_minutes.label("booking_end_offset_minutes"),
    Event.max_subscriptions.label("max_subscriptions"),
    Event.enrolled_count.label("event_enrolled"),
    Event.waiting_list.label("waiting_list"),
    Event.booked_per_date.label("booked_per_date"),
    Event.reminder_before_minutes.label("reminder_before_minutes"),
    Event.starts_at.label("event_starts_at"),
    Event.ends_at.label("event_ends_at"),
    Event.recurrence.label("recurrence"),
    Event.timezone.label("live_timezone"),
)


#: The cache columns a page uses (not the surrogate id nor the organisation).
_ENTRY_COLUMNS = tuple(c for c in entries.c if c.name not in ("id", "organisation_id"))
_MINE = entries.alias("mine")


assert CalendarRow._fields == tuple(column.key for column in (*_ENTRY_COLUMNS, *_EVENT_COLUMNS)), (
    "CalendarRow must list the page's columns in select order"
)


def _side(query: _Shape, *, personal: bool) -> Select[Any]:
    attendee = bindparam("attendee", type_=entries.c.attendee_id.type)
    stmt = (
        select(*_ENTRY_COLUMNS, *_EVENT_COLUMNS)
        .join_from(entries, Event, Event.id == entries.c.event_id)
        .where(entries.c.organisation_id == bindparam("org", type_=entries.c.organisation_id.type))
    )
    if personal:
        stmt = stmt.where(entries.c.attendee_id == attendee)
        if query.bookmarked_only:
            stmt = stmt.where(entries.c.bookmarked.is_(True))
    else:
        # A personal row replaces the public row of the same occurrence (one
        # probe of the (occurrence_id, attendee_id) unique index per row).
        stmt = stmt.where(
            entries.c.attendee_id.is_(None),
            ~exists().where(
                _MINE.c.occurrence_id == entries.c.occurrence_id, _MINE.c.attendee_id == attendee
            ),
        )
    if query.types:
        stmt = stmt.where(entries.c.event_type.in_(bindparam("types", expanding=True)))
    return stmt


_STARTS = entries.c.starts_at.type
_ID = entries.c.occurrence_id.type
_LOWEST_ID = uuid.UUID(int=0)
_HIGHEST_ID = uuid.UUID(int=(1 << 128) - 1)


@dataclass(frozen=True)
class _Shape:
    """What decides the SQL text of a window; values travel as bound parameters."""

    bookmarked_only: bool
    types: bool
    #: The scan starts at a bound (a cursor or a date), inclusive or not.
    bound: bool
    inclusive: bool
    descending: bool


@lru_cache(maxsize=128)
def _window_statement(shape: _Shape) -> Any:
    """Built once per shape: constructing a UNION of subqueries costs more Python
    time than running it, so pages reuse the statement with new parameters."""
    key = tuple_(entries.c.starts_at, entries.c.occurrence_id)
    at = tuple_(bindparam("bound_starts", type_=_STARTS), bindparam("bound_id", type_=_ID))
    limited = []
    sides = [True] if shape.bookmarked_only else [True, False]
    for personal in sides:
        stmt = _side(shape, personal=personal)
        if shape.bound:
            if shape.descending:
                stmt = stmt.where(key <= at if shape.inclusive else key < at)
            else:
                stmt = stmt.where(key >= at if shape.inclusive else key > at)
        order = (
            (entries.c.starts_at.desc(), entries.c.occurrence_id.desc())
            if shape.descending
            else (entries.c.starts_at, entries.c.occurrence_id)
        )
        limited.append(stmt.order_by(*order).limit(bindparam("limit", type_=Integer())))
    if len(limited) == 1:
        return limited[0]
    both = union_all(*(select(side.subquery()) for side in limited)).subquery("page")
    page_order = (
        (both.c.starts_at.desc(), both.c.occurrence_id.desc())
        if shape.descending
        else (both.c.starts_at, both.c.occurrence_id)
    )
    return select(both).order_by(*page_order).limit(bindparam("limit", type_=Integer()))


def _near_bound(
    query: CalendarQuery, bound: CursorKey | None, *, descending: bool, inclusive: bool
) -> tuple[CursorKey | None, bool]:
    """Where the scan starts: the cursor, or the date it must not cross if that
    comes first. (date, lowest or highest id) stands for the date itself."""
    if descending:
        edge = None if query.to_date is None else (query.to_date, _HIGHEST_ID)
        if edge is not None and (bound is None or edge < bound):
            return edge, True
    else:
        edge = (query.from_date, _LOWEST_ID)
        if bound is None or edge > bound:
            return edge, True
    return bound, inclusive


def read_window(
    session: Session,
    user: EndUser,
    query: CalendarQuery,
    *,
    bound: CursorKey | None,
    descending: bool,
    limit: int,
    inclusive: bool = False,
) -> list[CalendarRow]:
    """Up to ``limit`` merged entries strictly after (or before) ``bound``.

    One statement: each side is its own ordered, limited keyset scan, the two
    glued with UNION ALL and cut to ``limit`` in order by the database, so a
    page costs one round trip and only its own rows cross the wire.

    The statement holds one range condition only, the bound the scan starts
    at; the date on the far side is applied to the rows read (they come last,
    so cutting there is exact). With both in SQL, SQLite bounded its index
    range by fromDate instead of the cursor, and deep pages scanned from it.
    """
    near, near_inclusive = _near_bound(query, bound, descending=descending, inclusive=inclusive)
    shape = _Shape(
        bookmarked_only=query.bookmarked_only,
        types=bool(query.types),
        bound=near is not None,
        inclusive=near_inclusive,
        descending=descending,
    )
    params: dict[str, Any] = {
        "org": user.organisation_id,
        "attendee": user.attendee_id,
        "limit": limit,
    }
    if query.types:
        params["types"] = list(query.types)
    if near is not None:
        params["bound_starts"], params["bound_id"] = near
    result = session.connection().execute(_window_statement(shape), params)
    # Plain named tuples: a page reads ~25 fields of each of its rows, and a
    # tuple's field is several times cheaper to read than a Row's.
    rows = [CalendarRow._make(row) for row in result.all()]
    if descending:
        inside = [row for row in rows if row.starts_at >= query.from_date]
    elif query.to_date is not None:
        inside = [row for row in rows if row.starts_at <= query.to_date]
    else:
        inside = rows
    return inside
