"""The .ics attachment of a mail (RFC 5545, via the icalendar library).

Pure: a mail context in, an Attachment out. Times are written in UTC so every
calendar shows them in its own zone; the event's zone rides along as
X-WR-TIMEZONE for clients that display it. Each date keeps the UID the
calendar feed gives it, with its SEQUENCE, LOCATION, GEO and URL, so a change
mail's file updates the entry a calendar already holds.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import lru_cache
from typing import Any

from icalendar import Calendar
from icalendar import Event as VEvent

from rollcall.domain.calendar.ics import Place, add_place, occurrence_uid
from rollcall.workers.smtp import Attachment

#: (occurrence id, start, end, SEQUENCE) of each date in the file.
DateRow = tuple[str, str, str, int]


def occurrence_ics(context: dict[str, Any], *, stamp: datetime) -> Attachment | None:
    """The dates in ``context`` as a calendar file: ``calendar_dates`` (a change
    mail's) or else the one ``occurrence``; None when there is no dated one."""
    event = context.get("event") or {}
    listed = context.get("calendar_dates")
    if listed is None:
        occurrence = context.get("occurrence") or {}
        listed = [occurrence] if occurrence.get("starts_at") and occurrence.get("ends_at") else []
    dates = tuple(
        (str(d.get("id")), d["starts_at"], d["ends_at"], int(d.get("sequence") or 0))
        for d in listed
    )
    if not dates:
        return None
    return _ics(
        dates,
        event.get("name") or "",
        event.get("description") or "",
        event.get("timezone") or "UTC",
        json.dumps(_stored_venue(event.get("venue")), sort_keys=True),
        event.get("online_url"),
        stamp,
    )


def _stored_venue(venue: dict[str, Any] | None) -> dict[str, Any] | None:
    """The venue without the lines a mail shows (those are derived)."""
    return None if not venue else {k: v for k, v in venue.items() if k != "lines"}


@lru_cache(maxsize=64)
def _ics(
    dates: tuple[DateRow, ...],
    name: str,
    description: str,
    timezone: str,
    venue_json: str,
    online_url: str | None,
    stamp: datetime,
) -> Attachment:
    # Cached: every recipient of a run gets the same file (the run passes one
    # stamp), and icalendar's serialiser was half of a run's rendering time.
    calendar = Calendar()
    calendar.add("prodid", "-//Rollcall//reminders//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-timezone", timezone)
    place = Place(venue=json.loads(venue_json), online_url=online_url)
    for occurrence_id, starts_at, ends_at, sequence in dates:
        vevent = VEvent()
        vevent.add("uid", occurrence_uid(occurrence_id))
        vevent.add("dtstamp", stamp)
        vevent.add("sequence", sequence)
        vevent.add("dtstart", datetime.fromisoformat(starts_at))
        vevent.add("dtend", datetime.fromisoformat(ends_at))
        vevent.add("summary", name)
        if description:
            vevent.add("description", description)
        add_place(vevent, place)
        calendar.add_component(vevent)
    return Attachment(
        filename="event.ics",
        content=calendar.to_ical(),
        maintype="text",
        subtype="calendar",
        params=(("method", "PUBLISH"),),
    )
