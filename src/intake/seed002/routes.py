"""Seed 002's event routes: each one calls the ``/v1/events`` route of the same meaning
(the same domain functions, scopes and transactions) and reshapes the reply."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Response

from rollcall.domain.clock import utcnow
from rollcall.domain.errors.events import OrganisationNotFound
from rollcall.domain.events.catalog import get_event, list_events
from rollcall.domain.events.sessions import create_session
from rollcall.domain.pagination import decode_cursor, page_of
from rollcall.intake.deps import AppSettings, Caller, DbSession, require
from rollcall.intake.event_schemas import session_fields
from rollcall.intake.json_body import BoundedJsonRoute
from rollcall.intake.routes import events as v1
from rollcall.intake.seed002.schemas import CreateBody, SeedSessionsBody
from rollcall.intake.seed002.sessions import (
    check_start_date,
    local_start,
    session_create,
    session_out,
)
from rollcall.intake.seed002.translate import event_create, event_out

router = APIRouter(tags=["seed 002 events"], route_class=BoundedJsonRoute)

#: The seed's scope names; ``events:write`` implies them all.
Creator = Annotated[Caller, Depends(require("events:write", "event.create"))]
Publisher = Annotated[Caller, Depends(require("events:write", "event.publish"))]
Unpublisher = Annotated[Caller, Depends(require("events:write", "event.unpublish"))]
Canceller = Annotated[Caller, Depends(require("events:write", "event.cancel"))]
SessionAdder = Annotated[Caller, Depends(require("events:write", "event.add_session"))]
Reader = Annotated[
    Caller, Depends(require("events:read", "events:write", "event.create", "event.publish"))
]
OrgUuid = Annotated[uuid.UUID, Path(description="The caller's organisation id")]
EventUuid = Annotated[uuid.UUID, Path(description="The event's id")]

Reply = dict[str, Any]


def own_org(caller: Caller, org_uuid: uuid.UUID) -> None:
    """Another organisation's uuid is not found, as its events are."""
    if org_uuid != caller.organisation_id:
        raise OrganisationNotFound(org_uuid=str(org_uuid))


def _event_reply(session: DbSession, caller: Caller, event_id: uuid.UUID) -> Reply:
    session.rollback()  # a fresh read after the /v1 route's transaction
    event = get_event(session, organisation_id=caller.organisation_id, id_or_ref=str(event_id))
    return {"event": event_out(event)}


@router.post("/orgs/{org_uuid}/events", status_code=201, summary="Create an event (seed 002)")
def post_event(
    org_uuid: OrgUuid, body: CreateBody, caller: Creator, session: DbSession, settings: AppSettings
) -> Reply:
    own_org(caller, org_uuid)
    created = v1.post_event(event_create(body.event), caller, session, settings)
    return {"statusCode": "201", "result": _event_reply(session, caller, created.id)}


@router.get("/orgs/{org_uuid}/events", summary="List an organisation's events (seed 002)")
def get_events(
    org_uuid: OrgUuid,
    caller: Reader,
    session: DbSession,
    limit: v1.Limit = v1.MAX_PAGE,
    cursor: v1.Cursor = None,
) -> Reply:
    """The seed defines no paging: a client that sends none gets the first page of
    ``MAX_PAGE``; ``next_cursor`` (``/v1``'s cursor) continues it."""
    own_org(caller, org_uuid)
    events = list_events(
        session,
        organisation_id=caller.organisation_id,
        after=decode_cursor(cursor),
        limit=limit + 1,
    )
    items, next_cursor = page_of(events, limit)
    return {
        "statusCode": 200,
        "result": {"events": [event_out(e) for e in items], "next_cursor": next_cursor},
    }


@router.get("/events/{event_uuid}", summary="Show an event (seed 002)")
def read_event(event_uuid: EventUuid, caller: Reader, session: DbSession) -> Reply:
    return {"statusCode": 200, "result": _event_reply(session, caller, event_uuid)}


@router.post(
    "/events/{event_uuid}/duplicate", status_code=201, summary="Duplicate an event (seed 002)"
)
def post_duplicate(
    event_uuid: EventUuid, caller: Creator, session: DbSession, settings: AppSettings
) -> Reply:
    copy = v1.post_copy(str(event_uuid), caller, session, settings, None)
    return {"statusCode": 201, "result": _event_reply(session, caller, copy.id)}


@router.post("/events/{event_uuid}/publish", status_code=201, summary="Publish (seed 002)")
def post_publish(
    event_uuid: EventUuid, caller: Publisher, session: DbSession, settings: AppSettings
) -> Reply:
    v1.post_publish(str(event_uuid), caller, session, settings)
    return {"statusCode": 201, "result": "Event has been published successfully"}


@router.post("/events/{event_uuid}/unpublish", status_code=201, summary="Unpublish (seed 002)")
def post_unpublish(event_uuid: EventUuid, caller: Unpublisher, session: DbSession) -> Reply:
    v1.post_unpublish(str(event_uuid), caller, session)
    return {"statusCode": 201, "result": "Event has been unpublished successfully"}


@router.post("/events/{event_uuid}/cancel", status_code=200, summary="Cancel (seed 002)")
def post_cancel(
    event_uuid: EventUuid, caller: Canceller, session: DbSession, settings: AppSettings
) -> Reply:
    v1.post_cancel(str(event_uuid), caller, session, settings, Response(), None)
    return {"statusCode": 200, "result": "Event has been cancelled successfully."}


@router.post("/events/{event_uuid}/sessions", status_code=201, summary="Add a session (seed 002)")
def post_session(
    event_uuid: EventUuid, body: SeedSessionsBody, caller: SessionAdder, session: DbSession
) -> Reply:
    """``POST /v1/events/{id}/sessions``'s domain function, in its one transaction:
    the seed's start date is checked against the new session's dates before it
    commits."""
    start = local_start(body.sessions)
    request = session_create(body.sessions, start)
    with session.begin():
        event = get_event(
            session, organisation_id=caller.organisation_id, id_or_ref=str(event_uuid)
        )
        item = create_session(
            session, event=event, fields=session_fields(request, only_set=False), now=utcnow()
        )
        check_start_date(session, event, item, start)
        reply = session_out(session, event, item, start)
    return {"statusCode": 201, "result": {"session": {"session": reply}}}
