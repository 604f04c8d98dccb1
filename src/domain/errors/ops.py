"""Operating the platform: jobs, mail and dead letters."""

from __future__ import annotations

from rollcall.domain.errors import Conflict, Invalid, NotFound


class JobNotFound(NotFound):
    """Job not found."""

    code = "JOB_NOT_FOUND"


class JobDataError(Invalid):
    """The job's data cannot be applied, and trying again would fail the same way."""

    code = "JOB_DATA_ERROR"


class MailNotFound(NotFound):
    """No such mail in this organisation."""

    code = "MAIL_NOT_FOUND"


class MailNotResendable(Conflict):
    """Only a failed mail can be resent."""

    code = "MAIL_NOT_RESENDABLE"


class DeadLetterNotFound(NotFound):
    """No such dead-lettered message (already requeued or deleted?)."""

    code = "DEAD_LETTER_NOT_FOUND"
