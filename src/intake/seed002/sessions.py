"""Seed 002's ``POST /events/{event_uuid}/sessions``: the seed's session body to
Rollcall's ``SessionIn`` (validated there: its checks and codes), and Rollcall's
session to the seed's reply shape.

A Rollcall session starts at one local time on each date it is on. The seed's
``session_starts_on`` carries a date too: it must be the local date of one of
the session's occurrences (else VALIDATION_ERROR), and the reply shows the
session on its first date. ``description``, ``image``, ``tickets`` with ids and
``sell_session: false`` are not modelled: UNSUPPORTED_FIELDS, never dropped."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from sqlalchemy.orm import Session

from rollcall.domain.errors.events import UnsupportedFields
from rollcall.domain.events.sessions import first_date
from rollcall.intake.event_schemas import SessionIn as RollcallSessionIn
from rollcall.intake.event_schemas import SessionOut
from rollcall.intake.seed002.schemas import SeedSessionIn
from rollcall.intake.seed002.translate import MINUTE, minute
from rollcall.models import Event, EventSession


def _invalid(field: str, message: str) -> RequestValidationError:
    where = ("body", "sessions", field)
    return RequestValidationError([{"loc": where, "msg": message, "type": "value_error"}])


def refuse_unsupported(body: SeedSessionIn) -> None:
    given = [name for name in ("description", "image") if getattr(body, name)]
    if body.tickets is not None and body.tickets.uuid:
        given.append("tickets")
    if not body.sell_session:
        given.append("sell_session")
    if given:
        raise UnsupportedFields(fields=[f"sessions.{name}" for name in given])


def local_start(body: SeedSessionIn) -> datetime | None:
    """``session_starts_on`` as a naive local datetime."""
    if body.session_starts_on is None:
        return None
    try:
        return datetime.strptime(body.session_starts_on.strip(), MINUTE)
    except ValueError:
        raise _invalid("session_starts_on", 'local time as "YYYY-MM-DD HH:MM"') from None


def session_create(body: SeedSessionIn, start: datetime | None) -> RollcallSessionIn:
    """The seed's session as Rollcall's request model (its own checks apply)."""
    refuse_unsupported(body)
    fields: dict[str, Any] = {
        "name": body.name,
        "status": body.status.lower(),
        "occurrences": {"type": body.occurrences.type.lower(), "ids": body.occurrences.uuid},
    }
    if start is not None:
        fields["starts_at"] = start.strftime("%H:%M")
    if body.duration is not None:
        fields["duration_minutes"] = body.duration
    try:
        return RollcallSessionIn.model_validate(fields)
    except ValidationError as exc:
        errors = [{**e, "loc": ("body", "sessions", *map(str, e["loc"]))} for e in exc.errors()]
        raise RequestValidationError(errors) from None


def check_start_date(db: Session, event: Event, item: EventSession, start: datetime | None) -> None:
    """The seed's start date must be one of the session's dates (local)."""
    if start is None:
        return
    tz = ZoneInfo(event.timezone)
    try:  # the local day in UTC; a day at the edge of the calendar (year 1) has no dates
        since, until = (
            datetime.combine(day, time(), tzinfo=tz).astimezone(UTC)
            for day in (start.date(), start.date() + timedelta(days=1))
        )
        found = first_date(db, item, since=since, until=until)
    except OverflowError:
        found = None
    if found is None:
        raise _invalid("session_starts_on", "not the local date of one of the session's dates")


def session_out(
    db: Session, event: Event, item: EventSession, start: datetime | None
) -> dict[str, Any]:
    """The seed's ``session`` reply."""
    out = SessionOut.of(item).model_dump(mode="json")
    tz = ZoneInfo(event.timezone)
    starts = None
    if start is not None:
        starts = start.replace(tzinfo=tz)
    elif item.starts_at is not None:
        first = first_date(db, item)
        if first is not None:
            day = first.astimezone(tz).date()
            clock = datetime.strptime(item.starts_at, "%H:%M").time()
            starts = datetime.combine(day, clock, tzinfo=tz)
    ends = None
    if starts is not None and item.duration_minutes is not None:
        ends = starts + timedelta(minutes=item.duration_minutes)
    created = item.created_at.isoformat()
    return {
        "uuid": out["id"],
        "sell_session": True,
        "status": out["status"].upper(),
        "name": out["name"],
        "capacity": out["capacity"],
        "display_name": out["name"],
        "description": "",
        "duration": out["duration_minutes"],
        "image": None,
        "created_on": created,
        "updated_on": created,
        "occurrences": {
            "type": out["occurrences"]["type"].upper(),
            "uuid": out["occurrences"]["ids"],
        },
        "session_starts_on": minute(starts, event.timezone),
        "session_ends_on": minute(ends, event.timezone),
        "tickets": [],
    }
