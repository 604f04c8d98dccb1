"""An attendee's calendar: its entries and its query parameters."""

from __future__ import annotations

from rollcall.domain.errors import Invalid, NotFound


class CalendarEntryNotFound(NotFound):
    """No such calendar entry for this attendee."""

    code = "CALENDAR_ENTRY_NOT_FOUND"


class FromDateRequired(Invalid):
    """fromDate is required."""

    code = "FROM_DATE_REQUIRED"


class InvalidDate(Invalid):
    """The date is not a valid ISO 8601 date or date-time (e.g. 2025-07-01T00:00:00Z)."""

    code = "INVALID_DATE"


class AfterWithoutFirst(Invalid):
    """`after` must be used together with `first`."""

    code = "AFTER_WITHOUT_FIRST"


class BeforeWithoutLast(Invalid):
    """`before` must be used together with `last`."""

    code = "BEFORE_WITHOUT_LAST"


class ConflictingPagination(Invalid):
    """Use either first/after or last/before, never both."""

    code = "CONFLICTING_PAGINATION"


class InvalidPageSize(Invalid):
    """first and last must be whole numbers between 1 and the maximum page size."""

    code = "INVALID_PAGE_SIZE"


class InvalidEventType(Invalid):
    """Unknown calendar event type."""

    code = "INVALID_EVENT_TYPE"
