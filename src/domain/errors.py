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

    def job_errors(self) -> list[dict[str, Any]]:
        """What a job failed by this error lists in its ``errors``."""
        return [self.as_dict()]


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


class Unavailable(RollcallError):
    """A service Rollcall depends on is unavailable; try again shortly.

    Not a DomainError: it is transient, so a worker retries it."""

    code = "SERVICE_UNAVAILABLE"


# Failures of our own ----------------------------------------------------------


class InternalError(RollcallError):
    """Something went wrong on our side; the request id in the logs has the details."""

    code = "INTERNAL_ERROR"


class DatabaseUnavailable(Unavailable):
    """The database is unavailable; try again shortly."""

    code = "DATABASE_UNAVAILABLE"


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


# Operator dashboard ----------------------------------------------------------


class MailNotFound(NotFound):
    """No such mail in this organisation."""

    code = "MAIL_NOT_FOUND"


class MailNotResendable(Conflict):
    """Only a failed mail can be resent."""

    code = "MAIL_NOT_RESENDABLE"


class DeadLetterNotFound(NotFound):
    """No such dead-lettered message (already requeued or deleted?)."""

    code = "DEAD_LETTER_NOT_FOUND"


class OperatorOnly(Forbidden):
    """Queue-wide figures are for platform operators' keys."""

    code = "OPERATOR_ONLY"


class OpsSignInRequired(Unauthenticated):
    """Sign in to the dashboard with an API key that has the ``ops`` scope."""

    code = "OPS_SIGN_IN_REQUIRED"


class CsrfTokenInvalid(Forbidden):
    """The form's CSRF token is missing or wrong: reload the page and submit it again."""

    code = "CSRF_TOKEN_INVALID"


# Event management (issue 3) ----------------------------------------------------


class OccurrenceNotFound(NotFound):
    """Occurrence not found in this event."""

    code = "OCCURRENCE_NOT_FOUND"


class SessionNotFound(NotFound):
    """Session not found in this event."""

    code = "SESSION_NOT_FOUND"


class EventNotDraft(Conflict):
    """This can only be changed while the event is a draft."""

    code = "EVENT_NOT_DRAFT"


class EventAlreadyUnpublished(Conflict):
    """The event is not published."""

    code = "EVENT_ALREADY_UNPUBLISHED"


class EventHasEnrollments(Conflict):
    """Seats of this event are already taken or reserved."""

    code = "EVENT_HAS_ENROLLMENTS"


class EventIsPublished(Conflict):
    """A published event cannot be deleted; unpublish it first."""

    code = "EVENT_IS_PUBLISHED"


class EventAlreadyCancelled(Conflict):
    """The event is already cancelled."""

    code = "EVENT_ALREADY_CANCELLED"


class OccurrenceAlreadyCancelled(Conflict):
    """The occurrence is already cancelled."""

    code = "OCCURRENCE_ALREADY_CANCELLED"


class OccurrenceEnded(Conflict):
    """The occurrence has already ended."""

    code = "OCCURRENCE_ENDED"


class CapacityBelowEnrolled(Conflict):
    """The capacity cannot go below the number of enrolled attendees."""

    code = "CAPACITY_BELOW_ENROLLED"


class WaitingListNotEmpty(Conflict):
    """The waiting list cannot be turned off while attendees are on it."""

    code = "WAITING_LIST_NOT_EMPTY"


class MinAboveMax(Invalid):
    """min_subscriptions cannot exceed max_subscriptions."""

    code = "MIN_ABOVE_MAX"


class InvalidCursor(Invalid):
    """The pagination cursor is not valid."""

    code = "INVALID_CURSOR"


class InvalidDateRange(Invalid):
    """The date range is not valid: from must be before to."""

    code = "INVALID_DATE_RANGE"


class RecurrenceTooLarge(Invalid):
    """The rule makes too many occurrences at once; start it later or make it sparser."""

    code = "RECURRENCE_TOO_LARGE"


# Reminders (issue 5) ------------------------------------------------------------


class OccurrenceCancelled(Conflict):
    """The occurrence is cancelled; it gets no reminder."""

    code = "OCCURRENCE_CANCELLED"


class NoUpcomingOccurrence(Conflict):
    """The event has no upcoming occurrence to remind about; name one."""

    code = "NO_UPCOMING_OCCURRENCE"


# Enrollment engine (issue 4) ------------------------------------------------------


class OccurrenceRequired(Invalid):
    """This event is booked per date: name an occurrence_id or a session_id."""

    code = "OCCURRENCE_REQUIRED"


class NotBookedPerDate(Invalid):
    """This event is booked as a whole; it takes no occurrence_id."""

    code = "EVENT_NOT_BOOKED_PER_DATE"


class MaxEnrollmentsReached(Conflict):
    """The attendee already holds the most enrollments this event allows per attendee."""

    code = "MAX_ENROLLMENTS_REACHED"


class DuplicateRow(Invalid):
    """This attendee appears more than once in the bulk request."""

    code = "DUPLICATE_ROW"


class BulkTooLarge(Invalid):
    """A bulk enrollment takes at most 10,000 rows."""

    code = "BULK_TOO_LARGE"


class BulkRowsFailed(Invalid):
    """Atomic bulk enrollment: at least one row failed, so no row was applied."""

    code = "BULK_ROWS_FAILED"

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        super().__init__(failed_rows=len(rows))
        self.rows = rows

    def job_errors(self) -> list[dict[str, Any]]:
        return self.rows


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


# Jobs under faults (issue 12) ----------------------------------------------------


class JobDataError(Invalid):
    """The job's data cannot be applied, and trying again would fail the same way."""

    code = "JOB_DATA_ERROR"
