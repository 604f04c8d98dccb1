"""The calendar as an RFC 5545 iCalendar feed (rendered with ``icalendar``). Pure."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from icalendar import Alarm, Calendar, Event

from rollcall.domain.calendar.listing import CalendarItem

PRODID = "-//Rollcall//Calendar//EN"


def render_ics(items: Iterable[CalendarItem], *, name: str, now: datetime) -> bytes:
    """A VCALENDAR with one VEVENT per entry (UID stable per occurrence), and a
    display VALARM ``reminder_before_minutes`` before the start when the event
    has that reminder set."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    for item in items:
        row = item.row
        vevent = Event()
        vevent.add("uid", f"{row.occurrence_id}@rollcall")
        vevent.add("dtstamp", now)
        vevent.add("dtstart", row.starts_at)
        vevent.add("dtend", row.ends_at)
        vevent.add("summary", row.title)
        vevent.add("categories", [row.event_type])
        vevent.add("status", "CANCELLED" if row.cancelled else "CONFIRMED")
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
