"""Parsing a calendar request into a query, with every error of seed 004 as its own code.

Pure: strings in (as the client sent them), a ``CalendarQuery`` out, or one of
FromDateRequired, InvalidDate, InvalidDateRange, AfterWithoutFirst,
BeforeWithoutLast, ConflictingPagination, InvalidCursor, InvalidPageSize,
InvalidEventType, or Invalid (VALIDATION_ERROR, as FastAPI refuses a bad
boolean elsewhere) for a ``bookmarked`` that is not a boolean.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from rollcall.domain.bounds import echo, flag_value, moment_problem
from rollcall.domain.calendar.cursor import CursorKey, decode_cursor
from rollcall.domain.errors import Invalid, InvalidDateRange
from rollcall.domain.errors.calendar import (
    AfterWithoutFirst,
    BeforeWithoutLast,
    ConflictingPagination,
    FromDateRequired,
    InvalidDate,
    InvalidEventType,
    InvalidPageSize,
)
from rollcall.models.events import EVENT_TYPES

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class CalendarQuery:
    from_date: datetime
    to_date: datetime | None
    types: tuple[str, ...]
    #: Page size and direction: forward (first/after) unless ``backward``.
    size: int
    backward: bool
    #: The decoded ``after`` (forward) or ``before`` (backward) cursor.
    cursor: CursorKey | None
    bookmarked_only: bool = False


def parse_datetime(value: str, *, name: str) -> datetime:
    """An ISO 8601 date or date-time in the years 1970..2200 (domain.bounds); a date
    is its midnight UTC, a naive time is UTC."""
    text = value.strip()
    try:
        if len(text) == 10:
            moment = datetime.combine(date.fromisoformat(text), time(0), tzinfo=UTC)
        else:
            moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidDate(parameter=name, value=echo(value, 64)) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    problem = moment_problem(moment)
    if problem is not None:
        raise InvalidDate(f"{name} {problem}.", parameter=name, value=echo(value, 64))
    return moment.astimezone(UTC)


def _page_size(value: str, *, name: str, maximum: int) -> int:
    try:
        size = int(value)
    except ValueError:
        raise InvalidPageSize(parameter=name, maximum=maximum) from None
    if not 1 <= size <= maximum:
        raise InvalidPageSize(parameter=name, maximum=maximum)
    return size


def _flag(value: str | None, *, name: str) -> bool:
    if value is None:
        return False
    parsed = flag_value(value)
    if parsed is None:
        raise Invalid(f"{name}: expected true or false", parameter=name, value=echo(value, 64))
    return parsed


def parse_calendar_query(
    *,
    from_date: str | None,
    to_date: str | None = None,
    type: str | None = None,
    first: str | None = None,
    after: str | None = None,
    last: str | None = None,
    before: str | None = None,
    bookmarked: str | None = None,
    secret: str,
    max_page_size: int = MAX_PAGE_SIZE,
) -> CalendarQuery:
    """The validated query; raises the seed-004 error that applies first."""
    if from_date is None or not from_date.strip():
        raise FromDateRequired()
    start = parse_datetime(from_date, name="fromDate")
    end = parse_datetime(to_date, name="toDate") if to_date else None
    if end is not None and start > end:
        raise InvalidDateRange(from_date=start.isoformat(), to_date=end.isoformat())
    if (first is not None or after is not None) and (last is not None or before is not None):
        raise ConflictingPagination()
    if after is not None and first is None:
        raise AfterWithoutFirst()
    if before is not None and last is None:
        raise BeforeWithoutLast()
    types: tuple[str, ...] = ()
    if type:
        types = tuple(sorted({part.strip().upper() for part in type.split(",") if part.strip()}))
        unknown = [name for name in types if name not in EVENT_TYPES]
        if unknown:
            raise InvalidEventType(type=echo(unknown[0], 64), known=list(EVENT_TYPES))
    backward = last is not None
    if backward:
        assert last is not None
        size = _page_size(last, name="last", maximum=max_page_size)
        cursor = decode_cursor(before, secret=secret) if before is not None else None
    else:
        size = (
            _page_size(first, name="first", maximum=max_page_size)
            if first is not None
            else min(DEFAULT_PAGE_SIZE, max_page_size)
        )
        cursor = decode_cursor(after, secret=secret) if after is not None else None
    return CalendarQuery(
        from_date=start,
        to_date=end,
        types=types,
        size=size,
        backward=backward,
        cursor=cursor,
        bookmarked_only=_flag(bookmarked, name="bookmarked"),
    )
