"""What the iCalendar feed adds to a page of the calendar: each event's place
and each occurrence's SEQUENCE, read live (two queries by primary key), not
from the cache the JSON calendar reads."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from rollcall.domain.calendar.ics import Place, render_ics
from rollcall.domain.calendar.listing import CalendarItem
from rollcall.domain.events.place import ical_sequence
from rollcall.models import Event, Occurrence


def calendar_feed(
    session: Session, items: Sequence[CalendarItem], *, name: str, now: datetime
) -> bytes:
    """The entries as an RFC 5545 calendar with LOCATION, GEO, URL and SEQUENCE."""
    event_ids = {item.row.event_id for item in items}
    occurrence_ids = [item.row.occurrence_id for item in items]
    places: dict[uuid.UUID, Place] = {}
    place_sequence: dict[uuid.UUID, int] = {}
    if event_ids:
        for event_id, venue, online_url, counter in session.execute(
            select(Event.id, Event.venue, Event.online_url, Event.place_sequence).where(
                Event.id.in_(event_ids)
            )
        ):
            places[event_id] = Place(venue=venue, online_url=online_url)
            place_sequence[event_id] = counter
    sequences: dict[uuid.UUID, int] = {}
    for start in range(0, len(occurrence_ids), 500):
        for occurrence_id, event_id, counter in session.execute(
            select(Occurrence.id, Occurrence.event_id, Occurrence.sequence).where(
                Occurrence.id.in_(occurrence_ids[start : start + 500])
            )
        ):
            sequences[occurrence_id] = ical_sequence(counter, place_sequence.get(event_id, 0))
    return render_ics(items, name=name, now=now, places=places, sequences=sequences)
