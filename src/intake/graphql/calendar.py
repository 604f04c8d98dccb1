"""Seed 004 over GraphQL: ``getCalendarEvents``, the attendee's calendar as a
Relay connection.

The same query as ``GET /v1/calendar``: the arguments go through REST's parser
(domain.calendar.query: every seed-004 error keeps its code), the page comes
from the same ``list_calendar`` with the same CTAs, and the edges' cursors are
REST's signed keyset cursors, so a cursor from one works in the other. Only an
attendee's end-user token may ask (scope AUTHENTICATED); an API key is
INSUFFICIENT_SCOPE, as REST has it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import Enum
from typing import Any, cast
from zoneinfo import ZoneInfo

import strawberry
from sqlalchemy.orm import Session
from strawberry.scalars import JSON
from strawberry.types import Info

from rollcall.domain.access.attendee_tokens import EndUser
from rollcall.domain.calendar.listing import CalendarItem, CalendarPage, list_calendar
from rollcall.domain.calendar.query import parse_calendar_query
from rollcall.domain.clock import utcnow
from rollcall.domain.errors.access import InsufficientScope
from rollcall.intake.calendar_schemas import entry_json
from rollcall.intake.graphql.context import Context
from rollcall.intake.graphql.projection import Projected
from rollcall.models.calendar import AUTHENTICATED

#: Cursors are opaque Strings: REST's signed keyset cursors (domain.calendar.cursor).
Cursor = str


@strawberry.enum(description="The event types a calendar can be filtered by (models.events).")
class CalendarEventType(Enum):
    MEETING = "MEETING"
    WEBINAR = "WEBINAR"
    TRAINING = "TRAINING"
    ELEARNING = "ELEARNING"
    COURSE = "COURSE"
    SCORM = "SCORM"
    VIDEO = "VIDEO"


@strawberry.type
class LocalTime:
    utc: datetime
    local: str
    timezone: str


@strawberry.type(description="An action the attendee may take on the entry (seed 004's CTA).")
class CallToAction:
    action: str
    method: str
    href: str
    body: JSON | None
    scope: str
    bookmarked: bool | None


def _local(moment: datetime, tz: str) -> LocalTime:
    return LocalTime(utc=moment, local=moment.astimezone(ZoneInfo(tz)).isoformat(), timezone=tz)


@strawberry.type(description="One dated entry of the attendee's calendar (an occurrence).")
class CalendarEvent:
    id: uuid.UUID
    event_id: uuid.UUID
    event_ref: str | None
    type: str
    title: str
    timezone: str
    starts_at: LocalTime
    ends_at: LocalTime
    event_status: str
    cancelled: bool
    personal: bool
    enrollment_id: uuid.UUID | None
    enrollment_status: str | None
    trainer: bool
    bookmarked: bool
    capacity: int | None
    spots_available: int | None
    ctas: list[CallToAction]

    @classmethod
    def of(cls, item: CalendarItem) -> CalendarEvent:
        # The fields of REST's entry (intake.calendar_schemas), camelCased.
        row = item.row
        personal = row.attendee_id is not None
        return cls(
            id=row.occurrence_id,
            event_id=row.event_id,
            event_ref=item.event_ref,
            type=row.event_type,
            title=row.title,
            timezone=row.timezone,
            starts_at=_local(row.starts_at, row.timezone),
            ends_at=_local(row.ends_at, row.timezone),
            event_status=row.event_status,
            cancelled=row.cancelled,
            personal=personal,
            enrollment_id=row.enrollment_id,
            enrollment_status=row.enrollment_status,
            trainer=bool(row.is_trainer) and personal,
            bookmarked=bool(row.bookmarked) and personal,
            capacity=item.seats.capacity,
            spots_available=item.spots_available,
            ctas=[_cta(cta) for cta in item.ctas],
        )


def _cta(cta: dict[str, Any]) -> CallToAction:
    return CallToAction(
        action=cta["action"],
        method=cta["method"],
        href=cta["href"],
        body=cta["body"],
        scope=cta["scope"],
        bookmarked=cta.get("bookmarked"),
    )


@strawberry.type
class CalendarEventEdge:
    cursor: Cursor
    node: CalendarEvent


@strawberry.type(description="Relay's page info.")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: Cursor | None
    end_cursor: Cursor | None


@strawberry.type
class CalendarEventConnection:
    edges: list[CalendarEventEdge]
    page_info: PageInfo

    @classmethod
    def of(cls, page: CalendarPage) -> CalendarEventConnection:
        return cls(
            edges=[
                CalendarEventEdge(cursor=it.cursor, node=CalendarEvent.of(it)) for it in page.items
            ],
            page_info=PageInfo(
                has_next_page=page.has_next_page,
                has_previous_page=page.has_previous_page,
                start_cursor=page.start_cursor,
                end_cursor=page.end_cursor,
            ),
        )


def connection_value(page: CalendarPage) -> dict[str, Any]:
    """``CalendarEventConnection.of(page)`` as plain data keyed by the fields'
    Python names, for ``Projected``: each node is REST's entry (one mapping of
    a row for both; its ``cursor`` is the edge's, and no node field reads it)."""
    return {
        "edges": [{"cursor": item.cursor, "node": entry_json(item)} for item in page.items],
        "page_info": {
            "has_next_page": page.has_next_page,
            "has_previous_page": page.has_previous_page,
            "start_cursor": page.start_cursor,
            "end_cursor": page.end_cursor,
        },
    }


def _text(value: int | None) -> str | None:
    return None if value is None else str(value)


@strawberry.type
class Query:
    @strawberry.field(
        description="The attendee's calendar (personal and public entries), paged as a Relay "
        "connection (first/after or last/before). Needs the attendee's end-user token."
    )
    async def get_calendar_events(
        self,
        info: Info[Context, None],
        from_date: datetime,
        to_date: datetime | None = None,
        type: list[CalendarEventType] | None = None,
        first: int | None = None,
        after: Cursor | None = None,
        last: int | None = None,
        before: Cursor | None = None,
        bookmarked: bool | None = None,
    ) -> CalendarEventConnection:
        context = info.context
        secret = context.settings.calendar_cursor_secret

        def read(session: Session) -> Any:
            # One threadpool call, reads only (as REST's page): the token lookup
            # (first: a refusal wins over a bad argument), then the page.
            user = context.credential_in(session, AUTHENTICATED)
            if not isinstance(user, EndUser):
                raise InsufficientScope(required=[AUTHENTICATED])
            query = parse_calendar_query(
                from_date=from_date.isoformat(),
                to_date=to_date.isoformat() if to_date is not None else None,
                type=",".join(kind.value for kind in type) if type else None,
                first=_text(first),
                after=after,
                last=_text(last),
                before=before,
                bookmarked=None if bookmarked is None else str(bookmarked).lower(),
                secret=secret,
            )
            page = list_calendar(session, user=user, query=query, now=utcnow(), secret=secret)
            # Completed from plain data (graphql.projection): 50 nodes resolved
            # field by field were four fifths of the request.
            return Projected(connection_value(page), lambda: CalendarEventConnection.of(page))

        # A Projected stands for the connection (its ``typed`` is one).
        return cast(CalendarEventConnection, await context.read(read))
