"""Event management: synchronous, in the request."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from domain.clock import utcnow
from domain.events import create_event, get_event, publish_event
from intake.deps import Caller, DbSession, require
from intake.schemas import EventCreate, EventOut

router = APIRouter(prefix="/v1/events", tags=["events"])

EventId = Annotated[str, Path(description="The event's id, or its `ref`")]
Writer = Annotated[Caller, Depends(require("events:write"))]
Reader = Annotated[Caller, Depends(require("events:read", "events:write"))]


@router.post("", status_code=201, response_model=EventOut, summary="Create a draft event")
def post_event(body: EventCreate, caller: Writer, session: DbSession) -> EventOut:
    with session.begin():
        event = create_event(
            session,
            organisation_id=caller.organisation_id,
            fields=body.model_dump(),
            now=utcnow(),
        )
    return EventOut.of(event)


@router.get("/{event_id}", response_model=EventOut, summary="Show an event")
def read_event(event_id: EventId, caller: Reader, session: DbSession) -> EventOut:
    event = get_event(session, organisation_id=caller.organisation_id, id_or_ref=event_id)
    return EventOut.of(event)


@router.post("/{event_id}/publish", response_model=EventOut, summary="Publish an event")
def post_publish(event_id: EventId, caller: Writer, session: DbSession) -> EventOut:
    with session.begin():
        event = get_event(session, organisation_id=caller.organisation_id, id_or_ref=event_id)
        publish_event(session, event=event, now=utcnow())
    return EventOut.of(event)
