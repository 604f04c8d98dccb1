"""Enrollment jobs (enroll, bulk enroll, remove, cancel) and enrollment lists."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from rollcall.config.settings import Settings
from rollcall.domain.access.attendee_tokens import EndUser, check_own_enrollment, own_attendee
from rollcall.domain.bounds import echo, flag_value
from rollcall.domain.enrollment.jobs import CANCEL, MOVE
from rollcall.domain.enrollment.queries import list_event_enrollments
from rollcall.domain.errors import Invalid
from rollcall.domain.errors.enrollment import EnrollmentNotFound
from rollcall.domain.events.catalog import get_event
from rollcall.intake.deps import (
    AppSettings,
    Caller,
    Credential,
    DbSession,
    EnrollmentReader,
    StudentOrEndUser,
    credential_in_one_hop,
    require,
)
from rollcall.intake.enrollment_jobs import (
    scope_payload,
    submit_bulk_enroll,
    submit_enroll,
    submit_remove,
)
from rollcall.intake.enrollment_schemas import (
    BulkEnrollmentRequest,
    EnrollmentOut,
    EnrollmentPage,
    MoveRequest,
)
from rollcall.intake.fields import CursorText, IdempotencyKeyText, Ref
from rollcall.intake.jobs_submit import accept_job, accepted
from rollcall.intake.json_body import BoundedJsonRoute, parse_json
from rollcall.intake.routes.events import EventId
from rollcall.intake.schemas import EnrollmentRequest, JobOut
from rollcall.models.db import statement_sessions_of
from rollcall.models.enrollment import EnrollmentStatus

router = APIRouter(prefix="/v1/events", tags=["enrollments"], route_class=BoundedJsonRoute)

Student = Annotated[Caller, Depends(require("students:write"))]
StudentOrEndUserOneHop = Annotated[Credential, Depends(credential_in_one_hop("students:write"))]
IdempotencyKey = Annotated[
    IdempotencyKeyText | None,
    Header(
        alias="Idempotency-Key",
        description="Repeat a request safely: the same key returns the first job.",
    ),
]


def _with_email(body: EnrollmentRequest) -> dict[str, Any]:
    """The attendee an API key sends: ``email`` is required, refused exactly as
    the body's own validation refuses a missing field."""
    attendee = body.attendee.model_dump()
    if attendee["email"] is None:
        raise RequestValidationError(
            [
                {
                    "type": "missing",
                    "loc": ("body", "attendee", "email"),
                    "msg": "Field required",
                    "input": {k: v for k, v in attendee.items() if v is not None},
                }
            ]
        )
    return attendee


@router.post(
    "/{event_id}/enrollments",
    status_code=202,
    response_model=JobOut,
    summary="Enroll one attendee (a job)",
)
async def post_enrollment(
    event_id: EventId,
    body: EnrollmentRequest,
    caller: StudentOrEndUserOneHop,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> JobOut:
    """With an API key (students:write): the attendee is created or brought up
    to date from the body (``email`` required). With an attendee's end-user
    token: that attendee only, as stored (body ``{"attendee": {"ref"}}``)."""
    # Async, with its sync work in one threadpool call (and the credential's
    # lookup in one more, deps.credential_in_one_hop): as sync dependencies
    # (settings, session, credential, scope, the session's close) and a sync
    # route, each was a hop to the threadpool and back, most of a request's
    # time under load (README, Benchmarks: bench_intake).
    settings: Settings = request.app.state.settings
    if isinstance(caller, EndUser):
        attendee = own_attendee(caller, body.attendee.model_dump())
    else:
        attendee = _with_email(body)

    def submit() -> JobOut:
        # On PostgreSQL each statement commits on its own: the event's read,
        # then the job with its outbox row, stamped under the line's turn, in
        # one INSERT (jobs_submit.record_job). No BEGIN, no COMMIT round trip;
        # a refusal (no such event, a bad scope, a reused key) writes nothing.
        with statement_sessions_of(settings)() as session:
            job = submit_enroll(
                session,
                settings,
                by=caller,
                event=event_id,
                attendee=attendee,
                occurrence_id=body.occurrence_id,
                session_id=body.session_id,
                idempotency_key=idempotency_key,
            )
            return accepted(session, response, job)

    return await run_in_threadpool(submit)


_BULK_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": BulkEnrollmentRequest.model_json_schema(ref_template="#/$defs/{model}")
            },
            "text/csv": {
                "schema": {"type": "string"},
                "example": "ref,email,name\nada,ada@example.org,Ada Lovelace\n",
            },
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "atomic": {"type": "boolean"},
                        "occurrence_id": {"type": "string", "format": "uuid"},
                        "session_id": {"type": "string", "format": "uuid"},
                    },
                    "required": ["file"],
                }
            },
        },
    }
}


CSV_COLUMNS = frozenset({"ref", "email", "name", "timezone", "locale"})


def _csv_text(data: bytes) -> str:
    # Refused, not repaired: replacing bytes would store mangled names and refs.
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise Invalid(
            f"the CSV is not UTF-8 text (line {line}, byte {exc.start}): export it as UTF-8",
            line=line,
            byte=exc.start,
        ) from None


def _csv_rows(text: str) -> tuple[list[dict[str, Any]], dict[int, str]]:
    """(rows, {row number: why it could not be read}); an unreadable row (a cell
    over the csv module's 131,072-character limit, a stray quote) is an empty
    dict in ``rows`` and a row error, like any other bad row."""
    reader = csv.reader(io.StringIO(text))
    try:
        headers = [name.strip() for name in next(reader, [])]
    except csv.Error as exc:
        raise Invalid(f"the CSV header row is not readable: {exc}") from None
    if "ref" not in headers:
        raise Invalid("CSV needs a header row with at least ref and email columns")
    rows: list[dict[str, Any]] = []
    unreadable: dict[int, str] = {}
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            rows.append({})
            unreadable[len(rows)] = f"the row is not readable CSV: {exc}"
            continue
        if cells:  # blank lines are no rows (as csv.DictReader has it)
            # Unknown columns (a roster often has more) are ignored, not row errors.
            rows.append(
                {k: v.strip() for k, v in zip(headers, cells, strict=False) if k in CSV_COLUMNS}
            )
    return rows, unreadable


def _flag(value: Any, default: bool) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    parsed = flag_value(str(value))
    if parsed is None:
        raise Invalid(f"atomic: expected true or false, got {echo(value, 64)!r}")
    return parsed


def _optional_uuid(value: Any, name: str) -> uuid.UUID | None:
    if value in (None, ""):
        return None
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise Invalid(f"{name}: not a UUID") from None


async def _bulk_body(request: Request) -> tuple[BulkEnrollmentRequest, dict[int, str]]:
    """JSON, text/csv (options in the query) or a multipart CSV upload; with the
    CSV rows that could not be read (row number -> why)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    options: dict[str, Any] = dict(request.query_params)
    if kind == "multipart/form-data":
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise Invalid("file: a CSV upload is required")
        text = _csv_text(await upload.read())
        options.update({k: v for k, v in form.items() if k != "file" and isinstance(v, str)})
        rows, unreadable = _csv_rows(text)
    elif kind in ("text/csv", "application/csv"):
        rows, unreadable = _csv_rows(_csv_text(await request.body()))
    else:
        try:
            return BulkEnrollmentRequest.model_validate(parse_json(await request.body())), {}
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(echo(p) for p in first.get("loc", ()))
            raise Invalid(f"{where}: {first.get('msg')}", errors=len(exc.errors())) from None
    if not rows:
        raise Invalid("the CSV has no rows")
    body = BulkEnrollmentRequest(
        atomic=_flag(options.get("atomic"), True),
        occurrence_id=_optional_uuid(options.get("occurrence_id"), "occurrence_id"),
        session_id=_optional_uuid(options.get("session_id"), "session_id"),
        attendees=rows,
    )
    return body, unreadable


@router.post(
    "/{event_id}/enrollments/bulk",
    status_code=202,
    response_model=JobOut,
    summary="Enroll up to 10,000 attendees in one job (JSON or CSV)",
    openapi_extra=_BULK_DOC,
)
async def post_bulk_enrollment(
    event_id: EventId,
    request: Request,
    caller: Student,
    session: DbSession,
    settings: AppSettings,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> JobOut:
    body, unreadable = await _bulk_body(request)
    session.begin()
    job = submit_bulk_enroll(
        session,
        settings,
        by=caller,
        event=event_id,
        body=body,
        unreadable=unreadable,
        idempotency_key=idempotency_key,
    )
    return accepted(session, response, job)


@router.delete(
    "/{event_id}/attendees/{attendee_ref}",
    status_code=202,
    response_model=JobOut,
    summary="Remove an attendee from the event (organiser action, a job)",
)
def delete_attendee(
    event_id: EventId,
    attendee_ref: Ref,
    caller: Student,
    session: DbSession,
    settings: AppSettings,
    response: Response,
    occurrence_id: uuid.UUID | None = None,
    session_id: uuid.UUID | None = None,
    idempotency_key: IdempotencyKey = None,
) -> JobOut:
    session.begin()
    job = submit_remove(
        session,
        settings,
        by=caller,
        event=event_id,
        attendee_ref=attendee_ref,
        occurrence_id=occurrence_id,
        session_id=session_id,
        idempotency_key=idempotency_key,
    )
    return accepted(session, response, job)


@router.post(
    "/{event_id}/enrollments/{enrollment_id}/cancel",
    status_code=202,
    response_model=JobOut,
    summary="Cancel an enrollment or waiting-list place (attendee action, a job)",
)
def post_cancel(
    event_id: EventId,
    enrollment_id: Ref,
    caller: StudentOrEndUser,
    session: DbSession,
    settings: AppSettings,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> JobOut:
    try:
        parsed = uuid.UUID(enrollment_id)
    except ValueError:
        raise EnrollmentNotFound(id=enrollment_id) from None
    session.begin()
    event = get_event(session, organisation_id=caller.organisation_id, id_or_ref=event_id)
    if isinstance(caller, EndUser):  # an attendee cancels only their own enrollment
        check_own_enrollment(session, caller, event_id=event.id, enrollment_id=parsed)
    return accept_job(
        session,
        settings,
        response,
        by=caller,
        organisation_id=caller.organisation_id,
        type=CANCEL,
        payload={"event_id": str(event.id), "enrollment_id": str(parsed)},
        idempotency_key=idempotency_key,
        event_id=event.id,
        progress_total=1,
    )


@router.post(
    "/{event_id}/enrollments/{enrollment_id}/move",
    status_code=202,
    response_model=JobOut,
    summary="Move an enrollment to another occurrence or session of the event (a job)",
)
def post_move(
    event_id: EventId,
    enrollment_id: Ref,
    body: MoveRequest,
    caller: Student,
    session: DbSession,
    settings: AppSettings,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> JobOut:
    """Capacity-checked at the target; the seat left promotes the first
    waitlisted there; the same enrollment and payment move; one mail."""
    try:
        parsed = uuid.UUID(enrollment_id)
    except ValueError:
        raise EnrollmentNotFound(id=enrollment_id) from None
    scope = scope_payload(body.occurrence_id, body.session_id)
    session.begin()
    event = get_event(session, organisation_id=caller.organisation_id, id_or_ref=event_id)
    return accept_job(
        session,
        settings,
        response,
        by=caller,
        organisation_id=caller.organisation_id,
        type=MOVE,
        payload={"event_id": str(event.id), "enrollment_id": str(parsed), **scope},
        idempotency_key=idempotency_key,
        event_id=event.id,
        progress_total=1,
    )


@router.get(
    "/{event_id}/enrollments",
    response_model=EnrollmentPage,
    summary="List an event's enrollments in arrival order (cursor pagination)",
)
def get_enrollments(
    event_id: EventId,
    caller: EnrollmentReader,
    session: DbSession,
    status: Annotated[list[EnrollmentStatus] | None, Query()] = None,
    after: Annotated[CursorText | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> EnrollmentPage:
    event = get_event(session, organisation_id=caller.organisation_id, id_or_ref=event_id)
    items, next_cursor = list_event_enrollments(
        session, event=event, statuses=list(status or []), after=after, limit=limit
    )
    return EnrollmentPage(items=[EnrollmentOut.of(i) for i in items], next_cursor=next_cursor)
