"""The organisation's catalogue (seed 002 ``listing``): its listed, published,
not cancelled events, filtered and cursor-paginated."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

from rollcall.domain.events.listing import list_catalogue
from rollcall.domain.pagination import decode_cursor
from rollcall.intake.deps import DbSession, EventReader
from rollcall.intake.fields import Text
from rollcall.intake.listing_schemas import MAX_LABELS, Label
from rollcall.intake.routes.events import (
    Cursor,
    EventPage,
    From,
    Limit,
    To,
    check_range,
    event_page,
)
from rollcall.models.events import EventType

router = APIRouter(prefix="/v1/catalogue", tags=["catalogue"])

Labels = Annotated[list[Label], Query(max_length=MAX_LABELS)]


def _words(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError("query_blank", "q must hold at least one word")
    return value


#: The catalogue's search text: one line of 1..200 characters, not blank.
SearchText = Annotated[str, Text(200, min_length=1), AfterValidator(_words)]


@router.get("", response_model=EventPage, summary="The catalogue: listed, published events")
def get_catalogue(
    caller: EventReader,
    session: DbSession,
    category: Labels = [],  # noqa: B006 (FastAPI copies the default)
    tag: Labels = [],  # noqa: B006
    type: Annotated[list[EventType], Query(max_length=7)] = [],  # noqa: B006
    start: From = None,
    end: To = None,
    q: Annotated[SearchText | None, Query(description="Words in name or description")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> EventPage:
    """Repeat ``category``, ``tag`` or ``type`` for any of several; the
    filters together match all. ``from``/``to``: events with an occurrence
    (not cancelled) overlapping the range."""
    check_range(start, end)
    events = list_catalogue(
        session,
        organisation_id=caller.organisation_id,
        categories=category,
        tags=tag,
        types=type,
        start=start,
        end=end,
        text=q,
        after=decode_cursor(cursor),
        limit=limit + 1,
    )
    return event_page(events, limit)
