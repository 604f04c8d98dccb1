"""One error root; every failure a client can cause has a stable ``code``.

The category base classes (NotFound, Conflict, ...) are what intake maps to an
HTTP status, in one place (intake.errors). Job errors carry the same codes.
"""

from __future__ import annotations

from typing import Any, ClassVar


class RollcallError(Exception):
    """Something went wrong."""

    code: ClassVar[str] = "INTERNAL_ERROR"

    def __init__(self, message: str | None = None, **details: Any) -> None:
        self.message = message or (self.__doc__ or self.code).strip().splitlines()[0]
        self.details = details
        super().__init__(self.message)

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body


class DomainError(RollcallError):
    """An expected refusal: never retried (actors declare ``throws=(DomainError,)``)."""


# Categories -------------------------------------------------------------------


class Unauthenticated(DomainError):
    """A valid API key is required."""

    code = "UNAUTHENTICATED"


class Forbidden(DomainError):
    """This key may not do that."""

    code = "FORBIDDEN"


class NotFound(DomainError):
    """Not found."""

    code = "NOT_FOUND"


class Conflict(DomainError):
    """The request conflicts with the current state."""

    code = "CONFLICT"


class Invalid(DomainError):
    """The request is not valid."""

    code = "VALIDATION_ERROR"


# Authentication ---------------------------------------------------------------


class InvalidApiKey(Unauthenticated):
    """The API key is missing, unknown or revoked."""

    code = "INVALID_API_KEY"


class InsufficientScope(Forbidden):
    """The API key lacks the scope this route requires."""

    code = "INSUFFICIENT_SCOPE"


# Lookups ----------------------------------------------------------------------


class EventNotFound(NotFound):
    """Event not found."""

    code = "EVENT_NOT_FOUND"


class JobNotFound(NotFound):
    """Job not found."""

    code = "JOB_NOT_FOUND"


class AttendeeNotFound(NotFound):
    """Attendee not found."""

    code = "ATTENDEE_NOT_FOUND"


class EnrollmentNotFound(NotFound):
    """Enrollment not found."""

    code = "ENROLLMENT_NOT_FOUND"


# Event lifecycle ----------------------------------------------------------------


class EventRefTaken(Conflict):
    """Another event of this organisation already has this ref."""

    code = "EVENT_REF_TAKEN"


class EventAlreadyPublished(Conflict):
    """The event is already published."""

    code = "EVENT_ALREADY_PUBLISHED"


class EventCompleted(Conflict):
    """The event is completed."""

    code = "EVENT_COMPLETED"


class EventCancelled(Conflict):
    """The event is cancelled."""

    code = "EVENT_CANCELLED"


# Enrollment -------------------------------------------------------------------


class EventNotPublished(Conflict):
    """The event is not published; it takes no enrollments."""

    code = "EVENT_NOT_PUBLISHED"


class RegistrationClosed(Conflict):
    """Registration for this event has closed."""

    code = "REGISTRATION_CLOSED"


class RegistrationNotOpen(Conflict):
    """Registration for this event has not opened yet."""

    code = "REGISTRATION_NOT_OPEN"


class EventFull(Conflict):
    """The event is full and has no waiting list."""

    code = "EVENT_FULL"


class AlreadyEnrolled(Conflict):
    """The attendee is already enrolled or waitlisted."""

    code = "ALREADY_ENROLLED"


class IdempotencyKeyReused(Conflict):
    """This Idempotency-Key was used for a different request."""

    code = "IDEMPOTENCY_KEY_REUSED"


# Calendar (issue 6) -------------------------------------------------------------


class InvalidToken(Unauthenticated):
    """An end-user token with scope AUTHENTICATED is required: missing, unknown or revoked."""

    code = "INVALID_TOKEN"


class CalendarEntryNotFound(NotFound):
    """No such calendar entry for this attendee."""

    code = "CALENDAR_ENTRY_NOT_FOUND"


class FromDateRequired(Invalid):
    """fromDate is required."""

    code = "FROM_DATE_REQUIRED"


class InvalidDate(Invalid):
    """The date is not a valid ISO 8601 date or date-time (e.g. 2025-07-01T00:00:00Z)."""

    code = "INVALID_DATE"


class InvalidDateRange(Invalid):
    """fromDate must not be after toDate."""

    code = "INVALID_DATE_RANGE"


class AfterWithoutFirst(Invalid):
    """`after` must be used together with `first`."""

    code = "AFTER_WITHOUT_FIRST"


class BeforeWithoutLast(Invalid):
    """`before` must be used together with `last`."""

    code = "BEFORE_WITHOUT_LAST"


class ConflictingPagination(Invalid):
    """Use either first/after or last/before, never both."""

    code = "CONFLICTING_PAGINATION"


class InvalidCursor(Invalid):
    """The cursor is not valid (malformed or tampered with)."""

    code = "INVALID_CURSOR"


class InvalidPageSize(Invalid):
    """first and last must be whole numbers between 1 and the maximum page size."""

    code = "INVALID_PAGE_SIZE"


class InvalidEventType(Invalid):
    """Unknown calendar event type."""

    code = "INVALID_EVENT_TYPE"
