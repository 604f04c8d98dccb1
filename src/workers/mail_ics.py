"""The .ics attachment of an occurrence (RFC 5545, via the icalendar library).

Pure: a mail context in, an Attachment out. Times are written in UTC so every
calendar shows them in its own zone; the event's zone rides along as
X-WR-TIMEZONE for clients that display it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from icalendar import Calendar
from icalendar import Event as VEvent

from workers.smtp import Attachment


def occurrence_ics(context: dict[str, Any], *, stamp: datetime) -> Attachment | None:
    """The occurrence in ``context`` as a calendar file, or None when the
    context has no dated occurrence."""
    occurrence = context.get("occurrence") or {}
    event = context.get("event") or {}
    if not occurrence.get("starts_at") or not occurrence.get("ends_at"):
        return None
    calendar = Calendar()
    calendar.add("prodid", "-//Rollcall//reminders//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-timezone", event.get("timezone") or "UTC")
    vevent = VEvent()
    vevent.add("uid", f"{occurrence.get('id')}@rollcall")
    vevent.add("dtstamp", stamp)
    vevent.add("dtstart", datetime.fromisoformat(occurrence["starts_at"]))
    vevent.add("dtend", datetime.fromisoformat(occurrence["ends_at"]))
    vevent.add("summary", event.get("name") or "")
    if event.get("description"):
        vevent.add("description", event["description"])
    calendar.add_component(vevent)
    return Attachment(
        filename="event.ics",
        content=calendar.to_ical(),
        maintype="text",
        subtype="calendar",
        params=(("method", "PUBLISH"),),
    )
