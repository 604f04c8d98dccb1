"""Seed 002's bodies to Rollcall's request models, and Rollcall's events to the seed's
reply shape. Meanings stay Rollcall's: the translated body is validated by
``EventCreate``, and refusals are Rollcall's codes."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from rollcall.domain.errors.events import UnsupportedFields
from rollcall.intake.schemas import EventCreate, EventOut
from rollcall.intake.seed002.schemas import UNSUPPORTED, BookingMomentIn, EventIn
from rollcall.models import Event

#: The seed's ``configuration.type`` values for a venue and for an online event.
VENUE_TYPES = frozenset({"VENUE", "VENUE_EVENT"})
ONLINE_TYPES = frozenset({"ONLINE", "ONLINE_EVENT", "VIRTUAL"})
#: ``occurrence_ends.type`` spellings, to Rollcall's ``ends.type``.
ENDS_TYPES = {
    "never": "never",
    "after": "after",
    "count": "after",
    "occurrences": "after",
    "on": "on",
    "date": "on",
    "until": "on",
}
#: The seed's minute form, "YYYY-MM-DD HH:MM".
MINUTE = "%Y-%m-%d %H:%M"
_CLOCK = re.compile(r"^(\d{1,3}):([0-5]\d)$")
_SEED_MINUTE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d$")
#: Booking-window keys the seed's replies carry that Rollcall's input does not take.
_WINDOW_ECHO = frozenset(
    {
        "local",
        "level",
        "occurrence_booking_start_type",
        "occurrence_booking_end_type",
        "hide_ticket_until_booking_start",
    }
)


def invalid(loc: tuple[str, ...], message: str) -> RequestValidationError:
    """A request validation error at ``body.event.<loc>``, answered as Rollcall's 422."""
    where = ("body", "event", *loc)
    return RequestValidationError([{"loc": where, "msg": message, "type": "value_error"}])


@cache
def _zones() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


def timezone_name(value: str) -> str:
    """The IANA name matching ``value`` in any case (``AUSTRALIA/SYDNEY``)."""
    name = _zones().get(value.lower())
    if name is None:
        raise invalid(("timezone",), "unknown IANA time zone")
    return name


def duration_minutes(value: str) -> int:
    """``event_duration``: hours ("2", "1.5") or "H:MM", in 15-minute steps."""
    text = value.strip()
    clock = _CLOCK.match(text)
    try:
        hours = Decimal(clock.group(1)) + Decimal(clock.group(2)) / 60 if clock else Decimal(text)
    except InvalidOperation:
        raise invalid(("occurrence", "attributes", "event_duration"), "hours, e.g. 1.5") from None
    minutes = hours * 60
    if not minutes.is_finite() or minutes <= 0 or minutes > 7 * 24 * 60 or minutes % 15:
        raise invalid(
            ("occurrence", "attributes", "event_duration"),
            "hours in 15-minute steps, more than 0 and at most 168",
        )
    return int(minutes)


def refuse_unsupported(body: EventIn) -> None:
    """UNSUPPORTED_FIELDS naming every unmodelled field that is not empty."""
    given = [name for name in UNSUPPORTED if getattr(body, name) not in (None, [], {}, False)]
    if body.is_update_org_settings:
        given.append("is_update_org_settings")
    if body.settings is not None and body.settings.sessions.enabled:
        given.append("settings.sessions")
    if body.settings is not None and body.settings.reminder_email_before_event.include_ticket:
        given.append("settings.reminder_email_before_event.include_ticket")
    if given:
        raise UnsupportedFields(fields=given)


def _recurrence(body: EventIn) -> dict[str, Any] | None:
    occurrence = body.occurrence
    if occurrence is None:
        return None
    attributes = occurrence.attributes
    ends = attributes.occurrence_ends
    ends_type = ENDS_TYPES.get(ends.type.lower(), ends.type.lower())
    rule: dict[str, Any] = {
        "type": occurrence.type.lower(),
        "starts_on": attributes.starts_on,
        "duration_minutes": duration_minutes(attributes.event_duration),
        "exclusions": occurrence.exclusions,
        "ends": {"type": ends_type},
    }
    if ends_type == "after":
        rule["ends"]["count"] = ends.value
    elif ends_type == "on":
        rule["ends"]["date"] = ends.value
    return rule


def _place(body: EventIn) -> dict[str, Any]:
    configuration = body.configuration
    if configuration is None or not configuration.attributes:
        return {}
    kind = configuration.type.upper()
    value = configuration.attributes[0].value
    if kind in VENUE_TYPES:
        return {"venue": value.model_dump(exclude_unset=True)}
    if kind in ONLINE_TYPES:
        return {"online_url": value.url, "type": "WEBINAR"}
    raise invalid(("configuration", "type"), "VENUE or ONLINE")


def _window(value: BookingMomentIn | None) -> dict[str, Any] | None:
    """The window as Rollcall takes it; ``utc`` in the seed's own "YYYY-MM-DD
    HH:MM" form (no offset: the field says UTC) is read as that instant."""
    if value is None:
        return None
    out = value.model_dump(exclude_unset=True, exclude=set(_WINDOW_ECHO))
    utc = out.get("utc")
    if isinstance(utc, str) and _SEED_MINUTE.match(utc.strip()):
        out["utc"] = utc.strip().replace(" ", "T") + ":00+00:00"
    return out


def _settings(body: EventIn) -> dict[str, Any]:
    settings = body.settings
    if settings is None:
        return {}
    before = settings.reminder_email_before_event
    after = settings.reminder_email_after_event
    fields: dict[str, Any] = {
        "max_subscriptions": settings.event_capacity,
        "max_per_attendee": settings.max_ticket_per_customer,
        "waiting_list": settings.waiting_list.enabled,
        "reminder_before_minutes": before.reminder_email_time if before.enabled else None,
        "reminder_after_minutes": after.reminder_email_time if after.enabled else None,
    }
    for name in ("booking_starts_on", "booking_ends_on"):
        window = _window(getattr(settings, name))
        if window is not None:
            fields[name] = window
    return fields


def event_create(body: EventIn) -> EventCreate:
    """Rollcall's create body for the seed's ``event``; refusals are Rollcall's."""
    refuse_unsupported(body)
    fields: dict[str, Any] = {
        "name": body.name,
        "description": body.description,
        "type": "MEETING",
        "timezone": timezone_name(body.timezone),
        "banner": [b.model_dump() for b in body.banner],
        "recurrence": _recurrence(body),
        **_place(body),
        **_settings(body),
    }
    if body.listing is not None:
        fields["listing"] = body.listing.model_dump()
    try:
        return EventCreate.model_validate(fields)
    except ValidationError as exc:
        errors = [{**e, "loc": ("body", "event", *map(str, e["loc"]))} for e in exc.errors()]
        raise RequestValidationError(errors) from None


def minute(moment: datetime | None, tz: str) -> dict[str, str] | None:
    """``{utc, local}`` in the seed's "YYYY-MM-DD HH:MM" form."""
    if moment is None:
        return None
    return {
        "utc": moment.astimezone(ZoneInfo("UTC")).strftime(MINUTE),
        "local": moment.astimezone(ZoneInfo(tz)).strftime(MINUTE),
    }


def _state(event: Event) -> str:
    if event.cancelled:
        return "CANCELLED"
    return event.status.upper()


def event_out(event: Event) -> dict[str, Any]:
    """The seed's ``event`` reply for a Rollcall event."""
    out = EventOut.of(event).model_dump(mode="json")
    tz = event.timezone
    rule = event.recurrence or {}
    occurrences = sorted(event.occurrences, key=lambda o: (o.starts_at, o.id))
    configuration: dict[str, Any] | None = None
    if out["venue"] is not None:
        configuration = {"type": "VENUE", "attributes": [{"name": "VENUE", "value": out["venue"]}]}
    elif out["online_url"] is not None:
        value = {"url": out["online_url"]}
        configuration = {"type": "ONLINE", "attributes": [{"name": "ONLINE", "value": value}]}
    listing = out["listing"] or {"enabled": False, "categories": []}
    return {
        "uuid": str(event.id),
        "status": _state(event),
        "name": event.name,
        "display_name": event.name,
        "slug": event.ref or str(event.id),
        "description": event.description,
        "banner": out["banner"],
        "thumbnail": out["thumbnail"],
        "resources": [],
        "timezone": tz,
        "enable_datetime_conversion": True,
        "created_on": minute(event.created_at, tz),
        "updated_on": minute(event.updated_at, tz),
        "event_occurrence": [
            {
                "uuid": str(o.id),
                "enabled": not o.cancelled,
                "start_on": minute(o.starts_at, tz),
                "end_on": minute(o.ends_at, tz),
                "timeslots": [],
                "sessions": [],
                "tickets": [],
            }
            for o in occurrences
        ],
        "occurrence": {
            "type": str(rule.get("type", "does_not_repeat")).upper(),
            "attributes": {
                "starts_on": minute(occurrences[0].starts_at, tz) if occurrences else None,
                "event_duration": _hours(rule.get("duration_minutes")),
                "occurrence_ends": rule.get("ends"),
            },
            "exclusions": rule.get("exclusions", []),
        },
        "configuration": configuration,
        "publishing": {"state": "PUBLISHED" if event.status == "published" else "DRAFT"},
        "listing": {"enabled": listing["enabled"], "categories": listing["categories"]},
        "settings": {
            "booking_starts_on": out["booking_starts_on"],
            "booking_ends_on": out["booking_ends_on"],
            "event_capacity": event.max_subscriptions,
            "max_ticket_per_customer": event.max_per_attendee,
            "waiting_list": {"enabled": event.waiting_list},
            "reminder_email_before_event": _reminder(event.reminder_before_minutes),
            "reminder_email_after_event": _reminder(event.reminder_after_minutes),
            "sessions": {"enabled": bool(event.sessions)},
        },
        "coupons": [],
        "survey_configuration": [],
    }


def _hours(minutes: Any) -> str | None:
    if not isinstance(minutes, int):
        return None
    return format(Decimal(minutes) / 60, "f").rstrip("0").rstrip(".")


def _reminder(minutes: int | None) -> dict[str, Any]:
    return {"enabled": minutes is not None, "reminder_email_time": minutes}
