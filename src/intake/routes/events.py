"""Event management: synchronous, in the request. Cancellation notifies through a job."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel

from rollcall.config.settings import Settings
from rollcall.domain.clock import utcnow
from rollcall.domain.errors import InvalidDateRange
from rollcall.domain.events.admin import (
    cancel_event,
    copy_event,
    delete_event,
    unpublish_event,
    update_event,
)
from rollcall.domain.events.catalog import create_event, get_event, list_events, publish_event
from rollcall.domain.events.change_notice import notices_due
from rollcall.domain.events.jobs import NOTIFY_CANCELLATION
from rollcall.domain.events.trainers import add_trainers
from rollcall.domain.jobs.outbox import take_written
from rollcall.domain.pagination import decode_cursor, page_of
from rollcall.intake.deps import AppSettings, Caller, DbSession, EventReader, require
from rollcall.intake.event_schemas import CancelIn, EventPatch, Page
from rollcall.intake.fields import CursorText, Instant, Ref, Title
from rollcall.intake.jobs_submit import accept_job, enqueue_committed, record_job
from rollcall.intake.json_body import BoundedJsonRoute
from rollcall.intake.schemas import EventCreate, EventOut, JobOut, Strict
from rollcall.models import Event
from rollcall.models.events import EventStatus, EventType

router = APIRouter(prefix="/v1/events", tags=["events"], route_class=BoundedJsonRoute)

EventId = Annotated[Ref, Path(description="The event's id, or its `ref`")]
Writer = Annotated[Caller, Depends(require("events:write"))]
#: The largest page a list answers.
MAX_PAGE = 200
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page size")]
Cursor = Annotated[CursorText | None, Query(description="`next_cursor` of the last page")]
From = Annotated[Instant | None, Query(alias="from", description="Range start (with offset)")]
To = Annotated[Instant | None, Query(alias="to", description="Range end, exclusive")]


#: The response header that names the job mailing a change notice (PATCH of a
#: published event's place, reschedule of a date), when one was recorded.
NOTIFICATION_JOB_HEADER = "Notification-Job"
#: The OpenAPI description of that header, on the routes that may set it.
NOTIFICATION_JOB_DOC: dict[int | str, dict[str, Any]] = {
    200: {
        "headers": {
            NOTIFICATION_JOB_HEADER: {
                "description": "`/v1/jobs/<id>` of the job mailing the change notice, when one "
                "was recorded (a published event, `send_notification` true)",
                "schema": {"type": "string"},
            }
        }
    }
}


class CopyIn(Strict):
    ref: Ref | None = None
    name: Title | None = None


class Deleted(BaseModel):
    event_id: str


class EventPage(Page):
    items: list[EventOut]


def event_page(events: list[Event], limit: int) -> EventPage:
    """A page of events read ``limit + 1`` at a time (see domain.pagination.page_of)."""
    items, next_cursor = page_of(events, limit)
    return EventPage(items=[EventOut.of(e) for e in items], next_cursor=next_cursor)


def horizon(settings: Settings) -> datetime:
    return utcnow() + timedelta(days=settings.occurrence_horizon_days)


def check_range(start: datetime | None, end: datetime | None) -> None:
    if start is not None and end is not None and start >= end:
        raise InvalidDateRange(**{"from": start.isoformat(), "to": end.isoformat()})


@router.post("", status_code=201, response_model=EventOut, summary="Create a draft event")
def post_event(
    body: EventCreate, caller: Writer, session: DbSession, settings: AppSettings
) -> EventOut:
    fields = body.columns()
    dates = [(d.starts_at, d.ends_at) for d in body.dates] if body.dates is not None else None
    with session.begin():
        event = create_event(
            session,
            organisation_id=caller.organisation_id,
            fields=fields,
            dates=dates,
            now=utcnow(),
            horizon_until=horizon(settings),
        )
        if body.trainers is not None:
            add_trainers(session, event=event, ids=body.trainers.ids, refs=body.trainers.refs)
    return EventOut.of(event)


@router.get("", response_model=EventPage, summary="List events (filters, cursor pagination)")
def get_events(
    caller: EventReader,
    session: DbSession,
    status: EventStatus | None = None,
    type: EventType | None = None,
    cancelled: bool | None = None,
    start: From = None,
    end: To = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> EventPage:
    check_range(start, end)
    events = list_events(
        session,
        organisation_id=caller.organisation_id,
        status=status,
        type=type,
        cancelled=cancelled,
        start=start,
        end=end,
        after=decode_cursor(cursor),
        limit=limit + 1,
    )
    return event_page(events, limit)


@router.get("/{event_id}", response_model=EventOut, summary="Show an event")
def read_event(event_id: EventId, caller: EventReader, session: DbSession) -> EventOut:
    event = get_event(session, organisation_id=caller.organisation_id, id_or_ref=event_id)
    return EventOut.of(event)


@router.patch(
    "/{event_id}",
    response_model=EventOut,
    summary="Change an event's fields",
    responses=NOTIFICATION_JOB_DOC,
)
def patch_event(
    event_id: EventId,
    body: EventPatch,
    caller: Writer,
    session: DbSession,
    settings: AppSettings,
    response: Response,
) -> EventOut:
    with session.begin():
        event = get_event(session, organisation_id=caller.organisation_id, id_or_ref=event_id)
        old_place = update_event(
            session,
            event=event,
            changes=body.changes(),
            now=utcnow(),
            horizon_until=horizon(settings),
        )
        notices = notices_due(
            event, old_place=old_place, cancelled=False, send_notification=body.send_notification
        )
        for type, payload in notices:
            job = record_job(
                session,
                organisation_id=caller.organisation_id,
                type=type,
                payload=payload,
                idempotency_key=None,
                by=caller,
                event_id=event.id,
            )
            response.headers[NOTIFICATION_JOB_HEADER] = f"/v1/jobs/{job.id}"
        # Promotion mails (capacity raised) and the change notice's job.
        written = take_written(session)
    enqueue_committed(settings, written)
    return EventOut.of(event)


@router.post("/{event_id}/publish", response_model=EventOut, summary="Publish an event")
def post_publish(
    event_id: EventId, caller: Writer, session: DbSession, settings: AppSettings
) -> EventOut:
    with session.begin():
        event = get_event(session, organisation_id=caller.organisation_id, id_or_ref=event_id)
        publish_event(session, event=event, now=utcnow())
        written = take_written(session)  # its webhook, if any
    enqueue_committed(settings, written)
    return EventOut.of(event)


@router.post("/{event_id}/unpublish", response_model=EventOut, summary="Back to draft")
def post_unpublish(event_id: EventId, caller: Writer, session: DbSession) -> EventOut:
    with session.begin():
        event = get_event(session, organisation_id=caller.organisation_id, id_or_ref=event_id)
        unpublish_event(session, event=event, now=utcnow())
    return EventOut.of(event)


@router.delete("/{event_id}", response_model=Deleted, summary="Delete a draft event")
def remove_event(event_id: EventId, caller: Writer, session: DbSession) -> Deleted:
    with session.begin():
        event = get_event(session, organisation_id=caller.organisation_id, id_or_ref=event_id)
        deleted = delete_event(session, event=event)
    return Deleted(event_id=str(deleted))


@router.post(
    "/{event_id}/copy", status_code=201, response_model=EventOut, summary="Duplicate as a draft"
)
def post_copy(
    event_id: EventId,
    caller: Writer,
    session: DbSession,
    settings: AppSettings,
    body: CopyIn | None = None,
) -> EventOut:
    body = body or CopyIn()
    with session.begin():
        event = get_event(session, organisation_id=caller.organisation_id, id_or_ref=event_id)
        copy = copy_event(
            session,
            event=event,
            now=utcnow(),
            horizon_until=horizon(settings),
            ref=body.ref,
            name=body.name,
        )
    return EventOut.of(copy)


@router.post(
    "/{event_id}/cancel",
    status_code=202,
    response_model=JobOut,
    summary="Cancel an event; a job mails every enrolled and waitlisted attendee",
)
def post_cancel(
    event_id: EventId,
    caller: Writer,
    session: DbSession,
    settings: AppSettings,
    response: Response,
    body: CancelIn | None = None,
) -> JobOut:
    session.begin()
    event = get_event(session, organisation_id=caller.organisation_id, id_or_ref=event_id)
    cancel_event(session, event=event, now=utcnow())
    return accept_job(
        session,
        settings,
        response,
        by=caller,
        organisation_id=caller.organisation_id,
        type=NOTIFY_CANCELLATION,
        payload={
            "event_id": str(event.id),
            "occurrence_id": None,
            "reason": (body or CancelIn()).reason,
        },
        idempotency_key=None,
        event_id=event.id,
    )
