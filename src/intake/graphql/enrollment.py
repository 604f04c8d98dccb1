"""Seed 003 over GraphQL: enroll, bulk enroll and remove attendees, and ``job(id)``.

Each mutation records and enqueues its job exactly as the REST route does
(intake.enrollment_jobs: one transaction with the outbox row, then Dramatiq;
applied exactly once by a worker). It then waits for the job's outcome up to
``wait`` seconds (default GRAPHQL_JOB_WAIT_SECONDS; 0 answers at once), on the
worker's job-finished notification (messaging.job_outcomes), so the payload
can carry the enrollment and the errors as seed 003's clients expect. Past
the deadline the payload has ``job {status: QUEUED|RUNNING}`` and no errors;
``job(id)`` reads it later.

A refusal before the job exists (an unknown event, an invalid attendee) is
in the enroll payloads' ``errors`` (seed 003: "the two enroll mutations
return an errors field"), with ``job`` null. Authentication and scope
refusals are GraphQL errors with ``extensions.error.code``, as is every
failure of ``removeAttendeeFromEvent``.
"""

from __future__ import annotations

import time
import uuid
import weakref
from collections.abc import Callable
from typing import Annotated, Any

import strawberry
from pydantic import BaseModel
from sqlalchemy.orm import Session
from strawberry.types import Info

from rollcall.domain.access.keys import SCOPES
from rollcall.domain.enrollment.queries import current_result, job_enrollments
from rollcall.domain.errors import DomainError, Invalid, RollcallError
from rollcall.domain.jobs.engine import get_job, read_job
from rollcall.intake.deps import Caller, Credential
from rollcall.intake.enrollment_jobs import submit_bulk_enroll, submit_enroll, submit_remove
from rollcall.intake.enrollment_schemas import BulkEnrollmentRequest
from rollcall.intake.fields import IdempotencyKeyText
from rollcall.intake.graphql.context import Context
from rollcall.intake.graphql.ids import id_or_ref
from rollcall.intake.graphql.job_types import (
    BulkEnrollmentError,
    Enrollment,
    EnrollmentError,
    EnrollmentStatus,
    Job,
)
from rollcall.intake.graphql.validation import valid
from rollcall.intake.schemas import EnrollmentRequest
from rollcall.messaging.job_outcomes import await_job_outcome
from rollcall.models import Job as JobRow
from rollcall.models.db import sessions_of

#: Seed 003: "All three mutations require the students:write scope".
STUDENTS = "students:write"

WAIT_DOC = (
    "Seconds to wait for the job's outcome (default: the server's "
    "GRAPHQL_JOB_WAIT_SECONDS); 0 answers at once with the job QUEUED."
)
Wait = Annotated[float | None, strawberry.argument(description=WAIT_DOC)]

IDEMPOTENCY_DOC = (
    "As REST's Idempotency-Key header: the same key again (same input) answers the "
    "first call's job; with other input it is IDEMPOTENCY_KEY_REUSED."
)


class _Key(BaseModel):
    """The key checked as REST checks the header (1 to 200 characters)."""

    idempotency_key: IdempotencyKeyText | None = None


def _key(value: str | None) -> str | None:
    return valid(_Key, {"idempotency_key": value}).idempotency_key


@strawberry.input
class AttendeeInput:
    ref: str
    email: str | None = None
    name: str | None = None
    timezone: str | None = None
    locale: str | None = None

    def as_dict(self) -> dict[str, Any]:
        fields = {
            "ref": self.ref,
            "email": self.email,
            "name": self.name,
            "timezone": self.timezone,
            "locale": self.locale,
        }
        return {name: value for name, value in fields.items() if value is not None}


@strawberry.input
class _JobTarget:
    """What the three mutations share: the event (by id or ref), the date or
    session, and the retry's key."""

    event_id: uuid.UUID | None = None
    event_ref: str | None = None
    occurrence_id: uuid.UUID | None = None
    session_id: uuid.UUID | None = None
    #: REST's ``Idempotency-Key``: a retried mutation with the same key (within
    #: the organisation) answers the first one's job, never a second job.
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_DOC)


@strawberry.input
class EnrollAttendeeToEventInput(_JobTarget):
    attendee: AttendeeInput


@strawberry.input
class BulkEnrollAttendeesToEventInput(_JobTarget):
    attendees: list[AttendeeInput]
    atomic: bool = True


@strawberry.input
class RemoveAttendeeFromEventInput(_JobTarget):
    attendee_ref: str


@strawberry.type
class EnrollAttendeeToEventPayload:
    enrollment: Enrollment | None
    job: Job | None
    errors: list[EnrollmentError]


@strawberry.type
class BulkEnrollAttendeesToEventPayload:
    job: Job | None
    enrollments: list[Enrollment]
    errors: list[BulkEnrollmentError]


@strawberry.type
class RemoveAttendeeFromEventPayload:
    #: null while the job is not finished (the deadline passed): see ``job``.
    success: bool | None
    job: Job


def _wait_seconds(context: Context, wait: float | None) -> float:
    settings = context.settings
    seconds = settings.graphql_job_wait_seconds if wait is None else wait
    if not 0 <= seconds <= settings.graphql_job_wait_max_seconds:
        raise Invalid(
            f"wait: between 0 and {settings.graphql_job_wait_max_seconds:g} seconds",
            parameter="wait",
        )
    return seconds


async def _submit(context: Context, submit: Callable[[Session], JobRow]) -> uuid.UUID:
    def accept(session: Session) -> uuid.UUID:
        if session.in_transaction():
            session.rollback()
        session.begin()
        try:
            return submit(session).id  # submit_and_enqueue commits
        except BaseException:
            session.rollback()
            raise

    return await context.run(accept)


#: Each request's wait deadline: the mutations of one document (aliases) share
#: GRAPHQL_JOB_WAIT_MAX_SECONDS between them, so 30 aliased enrollments cannot
#: hold a request 30 times as long.
_DEADLINES: weakref.WeakKeyDictionary[Context, float] = weakref.WeakKeyDictionary()


async def _outcome(context: Context, job_id: uuid.UUID, wait: float) -> None:
    settings = context.settings
    now = time.monotonic()
    deadline = _DEADLINES.setdefault(context, now + settings.graphql_job_wait_max_seconds)
    await await_job_outcome(
        settings, sessions_of(settings), job_id, max(0.0, min(wait, deadline - now))
    )


def _read_own(session: Session, caller: Caller, job_id: uuid.UUID) -> JobRow:
    session.rollback()  # a fresh snapshot: the worker committed after our last read
    return get_job(session, organisation_id=caller.organisation_id, job_id=str(job_id))


@strawberry.type
class Query:
    @strawberry.field(
        description="A job by id: any job of the organisation with jobs:read, "
        "and always the jobs this credential created (REST: GET /v1/jobs/{id})."
    )
    async def job(self, info: Info[Context, None], id: uuid.UUID) -> Job:
        credential: Credential = await info.context.credential(*SCOPES)

        def read(session: Session) -> Job:
            if isinstance(credential, Caller):
                row = read_job(
                    session,
                    organisation_id=credential.organisation_id,
                    job_id=str(id),
                    scopes=credential.scopes,
                    key_id=credential.api_key_id,
                )
            else:
                row = read_job(
                    session,
                    organisation_id=credential.organisation_id,
                    job_id=str(id),
                    token_id=credential.token_id,
                )
            return Job.of(row)

        return await info.context.run(read)


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Enroll one attendee (seed 003); waits up to `wait` s.")
    async def enroll_attendee_to_event(
        self,
        info: Info[Context, None],
        input: EnrollAttendeeToEventInput,
        wait: Wait = None,
    ) -> EnrollAttendeeToEventPayload:
        context = info.context
        caller = await context.caller(STUDENTS)
        try:
            seconds = _wait_seconds(context, wait)
            event = id_or_ref(input.event_id, input.event_ref, id_name="eventId")
            body = valid(
                EnrollmentRequest,
                {
                    "attendee": input.attendee.as_dict(),
                    "occurrence_id": input.occurrence_id,
                    "session_id": input.session_id,
                },
                names={},  # seed 003's attendee has a ``name``, not a title
            )
            attendee = body.attendee.model_dump()
            key = _key(input.idempotency_key)
            if attendee["email"] is None:  # an API key enrolls: REST requires it too
                raise Invalid("attendee.email: Field required", fields=["attendee.email"])
            job_id = await _submit(
                context,
                lambda session: submit_enroll(
                    session,
                    context.settings,
                    by=caller,
                    event=event,
                    attendee=attendee,
                    occurrence_id=body.occurrence_id,
                    session_id=body.session_id,
                    idempotency_key=key,
                ),
            )
        except DomainError as error:
            return EnrollAttendeeToEventPayload(
                enrollment=None,
                job=None,
                errors=[EnrollmentError(code=error.code, message=error.message)],
            )
        await _outcome(context, job_id, seconds)

        def read(session: Session) -> EnrollAttendeeToEventPayload:
            row = _read_own(session, caller, job_id)
            job = Job.of(row)
            if not job.final:
                return EnrollAttendeeToEventPayload(enrollment=None, job=job, errors=[])
            return EnrollAttendeeToEventPayload(
                enrollment=Enrollment.of_result(current_result(session, row)),
                job=job,
                errors=[EnrollmentError(code=e.code, message=e.message) for e in job.errors],
            )

        return await context.run(read)

    @strawberry.mutation(description="Enroll many attendees in one job (seed 003).")
    async def bulk_enroll_attendees_to_event(
        self,
        info: Info[Context, None],
        input: BulkEnrollAttendeesToEventInput,
        wait: Wait = None,
    ) -> BulkEnrollAttendeesToEventPayload:
        context = info.context
        caller = await context.caller(STUDENTS)
        try:
            seconds = _wait_seconds(context, wait)
            event = id_or_ref(input.event_id, input.event_ref, id_name="eventId")
            body = valid(
                BulkEnrollmentRequest,
                {
                    "atomic": input.atomic,
                    "occurrence_id": input.occurrence_id,
                    "session_id": input.session_id,
                    "attendees": [person.as_dict() for person in input.attendees],
                },
                names={},
            )
            key = _key(input.idempotency_key)
            job_id = await _submit(
                context,
                lambda session: submit_bulk_enroll(
                    session,
                    context.settings,
                    by=caller,
                    event=event,
                    body=body,
                    unreadable=None,
                    idempotency_key=key,
                ),
            )
        except DomainError as error:
            refusal = BulkEnrollmentError(
                row=None, attendee_ref=None, code=error.code, message=error.message
            )
            return BulkEnrollAttendeesToEventPayload(job=None, enrollments=[], errors=[refusal])
        await _outcome(context, job_id, seconds)

        def read(session: Session) -> BulkEnrollAttendeesToEventPayload:
            row = _read_own(session, caller, job_id)
            job = Job.of(row)
            if not job.final:
                return BulkEnrollAttendeesToEventPayload(job=job, enrollments=[], errors=[])
            made = (
                job_enrollments(session, event_id=row.event_id, job_id=row.id)
                if row.event_id
                else []
            )
            return BulkEnrollAttendeesToEventPayload(
                job=job,
                enrollments=[
                    Enrollment(
                        id=item.id,
                        status=EnrollmentStatus(item.status),
                        waitlist_position=item.waitlist_position,
                        attendee_ref=item.attendee_ref,
                        event_id=item.event_id,
                    )
                    for item in made
                ],
                errors=[
                    BulkEnrollmentError(
                        row=e.row, attendee_ref=e.attendee_ref, code=e.code, message=e.message
                    )
                    for e in job.errors
                ],
            )

        return await context.run(read)

    @strawberry.mutation(
        description="Remove an attendee from the event (seed 003). A failure is a GraphQL "
        "error with extensions.error.code; past `wait`, success is null and job QUEUED/RUNNING."
    )
    async def remove_attendee_from_event(
        self,
        info: Info[Context, None],
        input: RemoveAttendeeFromEventInput,
        wait: Wait = None,
    ) -> RemoveAttendeeFromEventPayload:
        context = info.context
        caller = await context.caller(STUDENTS)
        seconds = _wait_seconds(context, wait)
        event = id_or_ref(input.event_id, input.event_ref, id_name="eventId")
        ref = input.attendee_ref
        key = _key(input.idempotency_key)
        job_id = await _submit(
            context,
            lambda session: submit_remove(
                session,
                context.settings,
                by=caller,
                event=event,
                attendee_ref=ref,
                occurrence_id=input.occurrence_id,
                session_id=input.session_id,
                idempotency_key=key,
            ),
        )
        await _outcome(context, job_id, seconds)

        def read(session: Session) -> RemoveAttendeeFromEventPayload:
            row = _read_own(session, caller, job_id)
            job = Job.of(row)
            if not job.final:
                return RemoveAttendeeFromEventPayload(success=None, job=job)
            if job.status.value == "failed":
                raise JobRefused(row.errors[0] if row.errors else {})
            return RemoveAttendeeFromEventPayload(success=True, job=job)

        return await context.run(read)


class JobRefused(RollcallError):
    """The job failed."""

    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(str(error.get("message") or "") or None)
        self.error = error

    def as_dict(self) -> dict[str, Any]:
        """The job's own error, code and details as it stored them."""
        return {"code": str(self.error.get("code") or "JOB_DATA_ERROR"), **self.error} | {
            "message": self.message
        }
