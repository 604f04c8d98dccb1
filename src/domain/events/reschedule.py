"""Moving one date of an event (seed 003: "use updateEvent or the event's
reschedule flow" rather than remove-then-re-enroll).

The occurrence keeps its id, so every enrollment, session seat and bookmark on
it stays, and so do the seat counts. Its ``sequence`` counts one more: the
iCalendar SEQUENCE grows and its scheduled reminders get a new run key, so the
runs recorded for the old time are cancelled and the new time's run is due at
its own moment (domain.reminders.runs.scheduled_run_key).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rollcall.domain.errors.events import OccurrenceStartTaken
from rollcall.domain.events import lifecycle
from rollcall.domain.events.occurrences import refresh_event_span
from rollcall.domain.reminders.runs import cancel_stale_runs
from rollcall.domain.webhooks.causes import record_event_change
from rollcall.models import Event, Occurrence


def reschedule_occurrence(
    session: Session,
    *,
    event: Event,
    occurrence: Occurrence,
    starts_at: datetime,
    ends_at: datetime,
    now: datetime,
) -> dict[str, Any] | None:
    """Move ``occurrence`` to ``starts_at``..``ends_at``; returns the change
    (``old`` and ``new`` times, the new ``sequence``, how many reminder runs
    were ``reminders_cancelled``), or None when the times are the ones it has.

    Raises EventCancelled, EventCompleted, OccurrenceCancelled, OccurrenceEnded,
    OccurrenceInPast, OccurrenceStartTaken.
    """
    refusal = lifecycle.reschedule_refusal(event, occurrence, starts_at=starts_at, now=now)
    if refusal is not None:
        raise refusal
    if (occurrence.starts_at, occurrence.ends_at) == (starts_at, ends_at):
        return None
    # The event's row first, as a seat change takes it: the date moves between
    # seat changes, never in the middle of one.
    session.execute(select(Event.id).where(Event.id == event.id).with_for_update())
    old = {"starts_at": occurrence.starts_at.isoformat(), "ends_at": occurrence.ends_at.isoformat()}
    occurrence.starts_at = starts_at
    occurrence.ends_at = ends_at
    occurrence.sequence = (occurrence.sequence or 0) + 1
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise OccurrenceStartTaken(starts_at=starts_at.isoformat()) from exc
    refresh_event_span(session, event=event)
    event.updated_at = now
    cancelled = cancel_stale_runs(session, occurrence_id=occurrence.id, now=now)
    record_event_change(session, event_type="event.changed", event=event, now=now)
    return {
        "old": old,
        "new": {"starts_at": starts_at.isoformat(), "ends_at": ends_at.isoformat()},
        "sequence": occurrence.sequence,
        "reminders_cancelled": cancelled,
    }
