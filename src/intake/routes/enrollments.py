"""Enrollment jobs: validate, record the job, answer 202."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Response

from domain.enrollment_jobs import ENROLL
from domain.events import get_event
from intake.deps import AppSettings, Caller, DbSession, require
from intake.jobs_submit import accept_job
from intake.routes.events import EventId
from intake.schemas import EnrollmentRequest, JobOut

router = APIRouter(prefix="/v1/events", tags=["enrollments"])

Student = Annotated[Caller, Depends(require("students:write"))]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=200,
        description="Repeat a request safely: the same key returns the first job.",
    ),
]


@router.post(
    "/{event_id}/enrollments",
    status_code=202,
    response_model=JobOut,
    summary="Enroll one attendee (a job)",
)
def post_enrollment(
    event_id: EventId,
    body: EnrollmentRequest,
    caller: Student,
    session: DbSession,
    settings: AppSettings,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> JobOut:
    session.begin()
    event = get_event(session, organisation_id=caller.organisation_id, id_or_ref=event_id)
    return accept_job(
        session,
        settings,
        response,
        organisation_id=caller.organisation_id,
        type=ENROLL,
        payload={"event_id": str(event.id), "attendee": body.attendee.model_dump()},
        idempotency_key=idempotency_key,
        event_id=event.id,
        progress_total=1,
    )
