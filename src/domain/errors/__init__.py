"""One error root; every failure a client can cause has a stable ``code``.

The category base classes (NotFound, Conflict, ...) are what intake maps to an
HTTP status, in one place (intake.errors). Job errors carry the same codes.

Here: the root, the categories, our own failures and the few errors several
concerns raise alike. Each concern's errors are in the module named for it:
``access``, ``events``, ``enrollment``, ``calendar`` and ``ops``.
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


# Shared by several concerns -------------------------------------------------


class IdempotencyKeyReused(Conflict):
    """This Idempotency-Key was used for a different request."""

    code = "IDEMPOTENCY_KEY_REUSED"


class InvalidCursor(Invalid):
    """The pagination cursor is not valid."""

    code = "INVALID_CURSOR"


class InvalidDateRange(Invalid):
    """The date range is not valid: from must be before to."""

    code = "INVALID_DATE_RANGE"


class InvalidLocale(Invalid):
    """The locale is not one Rollcall knows: give a BCP 47 tag such as nl, nl-BE or de-AT."""

    code = "INVALID_LOCALE"
    #: The pydantic error type the field's validator raises (intake.fields).
    problem_type = "locale_invalid"


#: A request field refused with one of these pydantic error types answers with
#: the code of its own, not VALIDATION_ERROR (intake.errors, bulk row errors).
CODE_BY_PROBLEM_TYPE: dict[str, str] = {InvalidLocale.problem_type: InvalidLocale.code}


def code_for_problem(problem_type: object) -> str:
    """The error code of a refused request field, by its pydantic error type."""
    return CODE_BY_PROBLEM_TYPE.get(str(problem_type), Invalid.code)
