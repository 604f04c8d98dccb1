"""Enrollment, single and bulk: who can take a seat, and when not."""

from __future__ import annotations

from typing import Any

from rollcall.domain.errors import Conflict, Invalid, NotFound


class AttendeeNotFound(NotFound):
    """Attendee not found."""

    code = "ATTENDEE_NOT_FOUND"


class EnrollmentNotFound(NotFound):
    """Enrollment not found."""

    code = "ENROLLMENT_NOT_FOUND"


class EventNotPublished(Conflict):
    """The event is not published; it takes no enrollments."""

    code = "EVENT_NOT_PUBLISHED"


class RegistrationClosed(Conflict):
    """Registration has closed: the booking window is over, or the date has ended."""

    code = "REGISTRATION_CLOSED"


class RegistrationNotOpen(Conflict):
    """Registration for this event has not opened yet."""

    code = "REGISTRATION_NOT_OPEN"


class BookingWindowInvalid(Invalid):
    """The booking window can never be open: it closes before it opens."""

    code = "BOOKING_WINDOW_INVALID"


class EventFull(Conflict):
    """The event is full and has no waiting list."""

    code = "EVENT_FULL"


class AlreadyEnrolled(Conflict):
    """The attendee is already enrolled or waitlisted."""

    code = "ALREADY_ENROLLED"


class OccurrenceRequired(Invalid):
    """This event is booked per date: name an occurrence_id or a session_id."""

    code = "OCCURRENCE_REQUIRED"


class OccurrenceAndSession(Invalid):
    """Name an occurrence_id or a session_id, not both: a session seat is not a seat in one date."""

    code = "OCCURRENCE_AND_SESSION"


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


class MoveTargetFull(Conflict):
    """The target has no free seat (or people wait for one): the enrollment stays where it is."""

    code = "MOVE_TARGET_FULL"


class MoveSameScope(Invalid):
    """The enrollment is already in that occurrence or session."""

    code = "MOVE_SAME_SCOPE"
