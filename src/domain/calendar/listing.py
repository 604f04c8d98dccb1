"""Reading an attendee's calendar from the cache, and toggling bookmarks.

The page is the attendee's personal rows merged with the organisation's public
rows, ordered by (starts_at, occurrence id), a personal row replacing the public
row of the same occurrence, read as a keyset window (``window``) of size + 1:
no OFFSET and no deep scans.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from rollcall.domain.access.attendee_tokens import EndUser
from rollcall.domain.calendar.cursor import CursorKey, encode_cursor
from rollcall.domain.calendar.policy import SeatState, calls_to_action
from rollcall.domain.calendar.query import CalendarQuery
from rollcall.domain.calendar.window import CalendarRow, entries, read_window
from rollcall.domain.enrollment.admission import status_refusal, whole_span, window_of
from rollcall.domain.enrollment.booking_window import BookedSpan, booking_refusal
from rollcall.domain.errors.calendar import CalendarEntryNotFound
from rollcall.models import CalendarBookmark, Occurrence


@dataclass
class CalendarItem:
    row: CalendarRow
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
    rows = read_window(
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
                read_window(
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
    session: Session, user: EndUser, rows: list[CalendarRow], *, now: datetime, secret: str
) -> list[CalendarItem]:
    """Attach what is read live: seats (Core-updated counters), refs and CTAs.

    The event's live columns came with each row; only events booked per date
    need one more read, for their occurrences' counters.
    """
    if not rows:
        return []
    occurrences = _occurrence_counters(session, rows)
    spans = _whole_spans(rows)
    items = []
    for row in rows:
        seats = _seats(row, occurrences)
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
            registration_open=_registration_open(row, spans, now=now),
            seats=seats,
            booked_per_date=bool(row.booked_per_date),
        )
        key = (row.starts_at, row.occurrence_id)
        items.append(
            CalendarItem(
                row=row,
                event_ref=row.event_ref,
                seats=seats,
                spots_available=spots,
                ctas=ctas,
                cursor=encode_cursor(key, secret=secret),
                reminder_before_minutes=row.reminder_before_minutes,
            )
        )
    return items


def _occurrence_counters(session: Session, rows: list[CalendarRow]) -> dict[uuid.UUID, Any]:
    """The live capacity and count of each occurrence booked per date on the
    page, in one read; none when no event on the page is booked per date."""
    per_date = [row.occurrence_id for row in rows if row.booked_per_date]
    if not per_date:
        return {}
    return {
        occ.id: occ
        for occ in session.execute(
            select(Occurrence.id, Occurrence.capacity, Occurrence.enrolled_count).where(
                Occurrence.id.in_(per_date)
            )
        )
    }


def _whole_spans(rows: list[CalendarRow]) -> dict[uuid.UUID, BookedSpan]:
    """The span of each event on the page booked as a whole (first start to
    last end of its rule or dates), from the event columns each row carries
    (read live with the page: no further statement)."""
    spans: dict[uuid.UUID, BookedSpan] = {}
    for row in rows:
        if not row.booked_per_date and row.event_id not in spans:
            spans[row.event_id] = whole_span(
                starts_at=row.event_starts_at,
                ends_at=row.event_ends_at,
                rule=row.recurrence,
                timezone=row.live_timezone,
            )
    return spans


def _registration_open(
    row: CalendarRow, spans: dict[uuid.UUID, BookedSpan], *, now: datetime
) -> bool:
    """Whether an enroll job for this entry would pass the event's state and
    the booking window now: the rule the worker applies (domain.enrollment.
    admission), over the entry's date when booked per date, else the event's
    whole span."""
    if status_refusal(cancelled=row.live_cancelled, status=row.live_status) is not None:
        return False
    if row.booked_per_date:
        span = BookedSpan(row.starts_at, row.ends_at)
    else:
        span = spans.get(row.event_id, BookedSpan(row.starts_at, row.ends_at))
    return booking_refusal(window_of(row), span, now=now) is None


def _seats(row: CalendarRow, occurrences: dict[uuid.UUID, Any]) -> SeatState:
    """The row's seats: its occurrence's when booked per date, else the event's."""
    if row.booked_per_date:
        occ = occurrences[row.occurrence_id]
        capacity = occ.capacity if occ.capacity is not None else row.max_subscriptions
        return SeatState(capacity, occ.enrolled_count, row.waiting_list)
    return SeatState(row.max_subscriptions, row.event_enrolled, row.waiting_list)


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
