"""Booking scopes: what a seat is taken in (the event, one occurrence, one session).

The scope key is stored on the enrollment ("event", "occ:<uuid>", "sess:<uuid>")
and the scope knows the counter rows (levels) a seat in it occupies.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from rollcall.domain.enrollment.capacity import SeatRow
from rollcall.domain.errors import DomainError
from rollcall.domain.errors.enrollment import (
    NotBookedPerDate,
    OccurrenceAndSession,
    OccurrenceRequired,
)
from rollcall.domain.errors.events import OccurrenceCancelled, OccurrenceNotFound, SessionNotFound
from rollcall.models import Event, EventSession, Occurrence

EVENT_SCOPE = "event"


@dataclass(frozen=True)
class Scope:
    key: str
    occurrence_id: uuid.UUID | None
    session_id: uuid.UUID | None
    #: Counter rows, in locking order; the first one holds the waiting list.
    rows: tuple[SeatRow, ...]


def _uuid(value: str | uuid.UUID, error: type[DomainError]) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(value)
    except ValueError:
        raise error(id=value) from None


def check_scope_names(occurrence_id: object | None, session_id: object | None) -> None:
    """A request names at most one of an occurrence and a session (raises
    OccurrenceAndSession): intake refuses it at once, a job again when applied."""
    if occurrence_id is not None and session_id is not None:
        raise OccurrenceAndSession(occurrence_id=str(occurrence_id), session_id=str(session_id))


def resolve_scope(
    session: Session,
    *,
    event: Event,
    occurrence_id: str | uuid.UUID | None = None,
    session_id: str | uuid.UUID | None = None,
) -> Scope:
    """The scope a request names. Raises OccurrenceNotFound, SessionNotFound,
    OccurrenceCancelled, OccurrenceRequired, NotBookedPerDate or OccurrenceAndSession."""
    check_scope_names(occurrence_id, session_id)
    event_row = SeatRow(Event, event.id)
    if session_id is not None:
        sid = _uuid(session_id, SessionNotFound)
        part = session.get(EventSession, sid)
        if part is None or part.event_id != event.id or part.status != "active":
            raise SessionNotFound(id=str(session_id))
        row = SeatRow(EventSession, sid, fallback=event.max_subscriptions)
        return Scope(f"sess:{sid}", None, sid, (row, event_row))
    if occurrence_id is not None:
        if not event.booked_per_date:
            raise NotBookedPerDate()
        oid = _uuid(occurrence_id, OccurrenceNotFound)
        occurrence = session.get(Occurrence, oid)
        if occurrence is None or occurrence.event_id != event.id:
            raise OccurrenceNotFound(id=str(occurrence_id))
        if occurrence.cancelled:
            raise OccurrenceCancelled(
                "The occurrence is cancelled; it takes no enrollments.", id=str(oid)
            )
        row = SeatRow(Occurrence, oid, fallback=event.max_subscriptions)
        return Scope(f"occ:{oid}", oid, None, (row,))
    if event.booked_per_date:
        raise OccurrenceRequired()
    return Scope(EVENT_SCOPE, None, None, (event_row,))


def scope_of_key(event: Event, scope_key: str) -> Scope:
    """The scope of a stored key (no existence checks: the enrollment proves it)."""
    event_row = SeatRow(Event, event.id)
    kind, _, raw = scope_key.partition(":")
    if kind == "sess":
        sid = uuid.UUID(raw)
        return Scope(
            scope_key, None, sid, (SeatRow(EventSession, sid, event.max_subscriptions), event_row)
        )
    if kind == "occ":
        oid = uuid.UUID(raw)
        return Scope(scope_key, oid, None, (SeatRow(Occurrence, oid, event.max_subscriptions),))
    return Scope(EVENT_SCOPE, None, None, (event_row,))
