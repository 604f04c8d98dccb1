"""The .ics attachment of an occurrence (RFC 5545, via the icalendar library).

Pure: a mail context in, an Attachment out. Times are written in UTC so every
calendar shows them in its own zone; the event's zone rides along as
X-WR-TIMEZONE for clients that display it.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

from icalendar import Calendar
from icalendar import Event as VEvent

from rollcall.workers.smtp import Attachment


def occurrence_ics(context: dict[str, Any], *, stamp: datetime) -> Attachment | None:
    """The occurrence in ``context`` as a calendar file, or None when the
    context has no dated occurrence."""
    occurrence = context.get("occurrence") or {}
    event = context.get("event") or {}
    if not occurrence.get("starts_at") or not occurrence.get("ends_at"):
        return None
    return _ics(
        str(occurrence.get("id")),
        occurrence["starts_at"],
        occurrence["ends_at"],
        event.get("name") or "",
        event.get("description") or "",
        event.get("timezone") or "UTC",
        stamp,
    )


@lru_cache(maxsize=64)
def _ics(
    occurrence_id: str,
    starts_at: str,
    ends_at: str,
    name: str,
    description: str,
    timezone: str,
    stamp: datetime,
) -> Attachment:
    # Cached: every recipient of a run gets the same file (the run passes one
    # stamp), and icalendar's serialiser was half of a run's rendering time.
    calendar = Calendar()
    calendar.add("prodid", "-//Rollcall//reminders//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-timezone", timezone)
    vevent = VEvent()
    vevent.add("uid", f"{occurrence_id}@rollcall")
    vevent.add("dtstamp", stamp)
    vevent.add("dtstart", datetime.fromisoformat(starts_at))
    vevent.add("dtend", datetime.fromisoformat(ends_at))
    vevent.add("summary", name)
    if description:
        vevent.add("description", description)
    calendar.add_component(vevent)
    return Attachment(
        filename="event.ics",
        content=calendar.to_ical(),
        maintype="text",
        subtype="calendar",
        params=(("method", "PUBLISH"),),
    )
