"""The calendar as an RFC 5545 iCalendar feed (rendered with ``icalendar``). Pure."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from icalendar import Alarm, Calendar, Event

from rollcall.domain.calendar.listing import CalendarItem
from rollcall.domain.events.place import geo, location_text, place_url

PRODID = "-//Rollcall//Calendar//EN"


@dataclass(frozen=True)
class Place:
    """What a VEVENT says about where: the event's venue and online URL."""

    venue: dict[str, Any] | None = None
    online_url: str | None = None


def occurrence_uid(occurrence_id: uuid.UUID | str) -> str:
    """The UID of an occurrence in every calendar Rollcall writes (feed and mail)."""
    return f"{occurrence_id}@rollcall"


def add_place(vevent: Event, place: Place) -> None:
    """LOCATION (the venue's name and address, else the online URL), GEO (the
    venue's coordinates) and URL (the online URL, else the venue's map)."""
    location = location_text(place.venue, place.online_url)
    if location:
        vevent.add("location", location)
    coordinates = geo(place.venue)
    if coordinates is not None:
        vevent.add("geo", coordinates)
    url = place_url(place.venue, place.online_url)
    if url:
        vevent.add("url", url)


def render_ics(
    items: Iterable[CalendarItem],
    *,
    name: str,
    now: datetime,
    places: Mapping[uuid.UUID, Place] | None = None,
    sequences: Mapping[uuid.UUID, int] | None = None,
) -> bytes:
    """A VCALENDAR with one VEVENT per entry (UID stable per occurrence), and a
    display VALARM ``reminder_before_minutes`` before the start when the event
    has that reminder set. ``places`` (by event id) gives LOCATION, GEO and URL,
    ``sequences`` (by occurrence id) the SEQUENCE."""
    places = places or {}
    sequences = sequences or {}
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    for item in items:
        row = item.row
        vevent = Event()
        vevent.add("uid", occurrence_uid(row.occurrence_id))
        vevent.add("dtstamp", now)
        vevent.add("sequence", sequences.get(row.occurrence_id, 0))
        vevent.add("dtstart", row.starts_at)
        vevent.add("dtend", row.ends_at)
        vevent.add("summary", row.title)
        vevent.add("categories", [row.event_type])
        vevent.add("status", "CANCELLED" if row.cancelled else "CONFIRMED")
        add_place(vevent, places.get(row.event_id, Place()))
        if row.enrollment_status is not None:
            vevent.add("x-rollcall-enrollment", row.enrollment_status)
        if item.reminder_before_minutes and not row.cancelled:
            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", f"Reminder: {row.title}")
            alarm.add("trigger", timedelta(minutes=-item.reminder_before_minutes))
            vevent.add_component(alarm)
        calendar.add_component(vevent)
    return bytes(calendar.to_ical())
