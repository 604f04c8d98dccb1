"""The end user's calendar: JSON pages, bookmarks and an iCalendar feed.

These routes take an end-user token (scope AUTHENTICATED), not an API key.
Query parameters are read by hand so each seed-004 error keeps its own code
(FastAPI's validation would fold them into VALIDATION_ERROR).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials
from starlette.concurrency import run_in_threadpool

from rollcall.config.settings import Settings
from rollcall.domain.access.attendee_tokens import EndUser, authenticate_end_user
from rollcall.domain.bounds import MAX_YEAR, MIN_YEAR
from rollcall.domain.calendar.feed import calendar_feed
from rollcall.domain.calendar.listing import CalendarItem, list_calendar, toggle_bookmark
from rollcall.domain.calendar.query import MAX_PAGE_SIZE, CalendarQuery, parse_calendar_query
from rollcall.domain.clock import utcnow
from rollcall.intake.calendar_schemas import BookmarkOut, CalendarOut, calendar_json
from rollcall.intake.deps import AppSettings, DbSession, bearer
from rollcall.intake.fields import Ref
from rollcall.models.db import read_sessions_of

router = APIRouter(tags=["calendar"])

#: The iCalendar feed covers this window around now unless fromDate/toDate say otherwise.
ICS_PAST = timedelta(days=30)
ICS_FUTURE = timedelta(days=365)
ICS_MAX_ENTRIES = 2000


def _window(first: str, last: str) -> dict[str, str]:
    return {"formatMinimum": f"{MIN_YEAR}-01-01{first}", "formatMaximum": f"{MAX_YEAR}-12-31{last}"}


def _query_doc(name: str, schema: dict[str, Any], text: str, required: bool = False) -> Any:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "schema": schema,
        "description": text,
    }


_MOMENT = {
    "anyOf": [
        {"type": "string", "format": "date-time", **_window("T00:00:00Z", "T23:59:59.999999Z")},
        {"type": "string", "format": "date", **_window("", "")},
    ],
    "description": f"ISO 8601, years {MIN_YEAR}..{MAX_YEAR}",
}
_TEXT = {"type": "string", "maxLength": 500}
#: The query parameters are read by hand (see the module docstring); these
#: entries only document them, so clients and the schema fuzzers see them.
_FILTERS = [
    _query_doc("toDate", _MOMENT, "Range end (INVALID_DATE, INVALID_DATE_RANGE)"),
    _query_doc("type", _TEXT, "Event types, comma-separated (INVALID_EVENT_TYPE)"),
    _query_doc("bookmarked", {"type": "boolean"}, "Only bookmarked entries"),
]
_CALENDAR_DOC: dict[str, Any] = {
    "parameters": [
        _query_doc("fromDate", _MOMENT, "Range start (FROM_DATE_REQUIRED, INVALID_DATE)", True),
        *_FILTERS,
        _query_doc(
            "first",
            {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
            "Page size, forward",
        ),
        _query_doc("after", _TEXT, "`page_info.end_cursor` (INVALID_CURSOR)"),
        _query_doc(
            "last",
            {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
            "Page size, backward",
        ),
        _query_doc("before", _TEXT, "`page_info.start_cursor` (INVALID_CURSOR)"),
    ]
}
_ICS_DOC: dict[str, Any] = {
    "parameters": [_query_doc("fromDate", _MOMENT, "Range start (default: 30 days ago)"), *_FILTERS]
}


def _param(request: Request, *names: str) -> str | None:
    for name in names:
        value = request.query_params.get(name)
        if value is not None:
            return value
    return None


def end_user(
    session: DbSession,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> EndUser:
    # The token lookup's transaction is kept: reads continue in it (one pool
    # checkout per request), and the bookmark route commits it.
    return authenticate_end_user(
        session, credentials.credentials if credentials else None, now=utcnow()
    )


EndUserDep = Annotated[EndUser, Depends(end_user)]


@router.get(
    "/v1/calendar",
    response_model=CalendarOut,
    summary="The attendee's calendar (personal + public), paged with keyset cursors",
    description=(
        "Query: `fromDate` (required, ISO 8601), `toDate`, `type` (comma-separated), "
        "`first`+`after` or `last`+`before`, `bookmarked=true`. Bearer: an end-user token."
    ),
    openapi_extra=_CALENDAR_DOC,
)
async def get_calendar(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Response:
    # The whole page in one threadpool call: the token lookup, the window and
    # the serialisation share one session and one pool checkout. As sync
    # dependencies (session, settings, end user) each cost a hop of their own
    # to the threadpool and back, a third of a page's time under load.
    settings: Settings = request.app.state.settings
    secret = settings.calendar_cursor_secret
    plaintext = credentials.credentials if credentials else None
    given: dict[str, Any] = {
        "from_date": _param(request, "fromDate", "from_date"),
        "to_date": _param(request, "toDate", "to_date"),
        "type": _param(request, "type"),
        "first": _param(request, "first"),
        "after": _param(request, "after"),
        "last": _param(request, "last"),
        "before": _param(request, "before"),
        "bookmarked": _param(request, "bookmarked"),
    }

    def page() -> bytes:
        # Reads only, each in one statement: autocommit (no BEGIN/ROLLBACK trips).
        with read_sessions_of(settings)() as session:
            # Authenticated first (a refusal wins over a bad query), per request:
            # a revoked token is refused from the next page on.
            user = authenticate_end_user(session, plaintext, now=utcnow())
            query = parse_calendar_query(**given, secret=secret)
            listed = list_calendar(session, user=user, query=query, now=utcnow(), secret=secret)
            # Serialised once, here, to what CalendarOut describes: returning a
            # model would make FastAPI dump it, validate the dump and serialise
            # that again.
            return calendar_json(listed)

    return Response(await run_in_threadpool(page), media_type="application/json")


@router.post(
    "/v1/calendar/bookmarks/{entry}",
    response_model=BookmarkOut,
    summary="Toggle the bookmark on a calendar entry",
)
def post_bookmark(
    entry: Annotated[Ref, Path(description="The entry's id (an occurrence id)")],
    user: EndUserDep,
    session: DbSession,
) -> BookmarkOut:
    state = toggle_bookmark(session, user=user, entry_id=entry, now=utcnow())
    session.commit()
    return BookmarkOut(entry=entry, bookmarked=state)  # type: ignore[arg-type]


@router.get(
    "/v1/calendar.ics",
    summary="The attendee's calendar as a subscribable iCalendar (RFC 5545) feed",
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}}},
    openapi_extra=_ICS_DOC,
)
def get_calendar_ics(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    token: Annotated[
        Ref | None,
        Query(
            description="An end-user token, for calendar apps that cannot send headers "
            "(`Authorization: Bearer <token>` is preferred: a URL ends up in logs and histories)"
        ),
    ] = None,
) -> Response:
    # The header wins: it is the channel that stays out of URLs.
    user = authenticate_end_user(
        session, credentials.credentials if credentials else token, now=utcnow()
    )
    now = utcnow()
    from_date = _param(request, "fromDate", "from_date")
    to_date = _param(request, "toDate", "to_date")
    if from_date is None:
        # A subscription asks without dates: a window around now.
        from_date = (now - ICS_PAST).isoformat()
        to_date = to_date or (now + ICS_FUTURE).isoformat()
    parsed = parse_calendar_query(
        from_date=from_date,
        to_date=to_date,
        type=_param(request, "type"),
        bookmarked=_param(request, "bookmarked"),
        first=str(MAX_PAGE_SIZE),
        secret=settings.calendar_cursor_secret,
    )
    items: list[CalendarItem] = []
    query: CalendarQuery = parsed
    while len(items) < ICS_MAX_ENTRIES:
        page = list_calendar(
            session, user=user, query=query, now=now, secret=settings.calendar_cursor_secret
        )
        items.extend(page.items)
        if not page.has_next_page or not page.items:
            break
        query = CalendarQuery(
            from_date=parsed.from_date,
            to_date=parsed.to_date,
            types=parsed.types,
            size=parsed.size,
            backward=False,
            cursor=page.items[-1].key,
            bookmarked_only=parsed.bookmarked_only,
        )
    body = calendar_feed(
        session, items[:ICS_MAX_ENTRIES], name=f"Rollcall: {user.attendee_ref}", now=now
    )
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Cache-Control": "private, max-age=300"},
    )
