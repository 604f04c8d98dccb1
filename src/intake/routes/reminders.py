"""Ad-hoc reminders: ``POST /v1/events/{id}/reminders`` (a job)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict, Field

from rollcall.domain.clock import utcnow
from rollcall.domain.events.catalog import get_event
from rollcall.domain.reminders.jobs import REMINDER
from rollcall.domain.reminders.runs import pick_occurrence
from rollcall.intake.deps import AppSettings, Caller, DbSession, require
from rollcall.intake.jobs_submit import accept_job
from rollcall.intake.json_body import BoundedJsonRoute
from rollcall.intake.routes.enrollments import IdempotencyKey
from rollcall.intake.routes.events import EventId
from rollcall.intake.schemas import JobOut

router = APIRouter(prefix="/v1/events", tags=["reminders"], route_class=BoundedJsonRoute)


class ReminderRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    occurrence_id: uuid.UUID | None = Field(
        default=None, description="The occurrence to remind about; default: the next one"
    )


@router.post(
    "/{event_id}/reminders",
    status_code=202,
    response_model=JobOut,
    summary="Send a reminder for an occurrence now (a job)",
)
def post_reminder(
    event_id: EventId,
    caller: Annotated[Caller, Depends(require("events:write"))],
    session: DbSession,
    settings: AppSettings,
    response: Response,
    body: ReminderRequest | None = None,
    idempotency_key: IdempotencyKey = None,
) -> JobOut:
    session.begin()
    event = get_event(session, organisation_id=caller.organisation_id, id_or_ref=event_id)
    wanted = body.occurrence_id if body else None
    occurrence = pick_occurrence(
        session, event=event, occurrence_id=str(wanted) if wanted else None, now=utcnow()
    )
    return accept_job(
        session,
        settings,
        response,
        by=caller,
        organisation_id=caller.organisation_id,
        type=REMINDER,
        payload={"event_id": str(event.id), "occurrence_id": str(occurrence.id)},
        idempotency_key=idempotency_key,
        event_id=event.id,
        progress_total=1,
    )
