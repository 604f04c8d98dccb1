"""Sessions (seed 002): parts of an event with their own capacity and status,
on all of the event's occurrences or on specific ones."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from rollcall.domain.errors.events import (
    CapacityBelowEnrolled,
    EventCancelled,
    EventCompleted,
    OccurrenceNotFound,
    SessionNotFound,
)
from rollcall.models import Event, EventSession, Occurrence


def _check_event_open(event: Event) -> None:
    if event.cancelled:
        raise EventCancelled()
    if event.status == "completed":
        raise EventCompleted()


def _check_occurrences(session: Session, event: Event, ids: list[str] | None) -> None:
    if not ids:
        return
    wanted = {uuid.UUID(value) for value in ids}
    found = set(
        session.scalars(
            select(Occurrence.id).where(Occurrence.event_id == event.id, Occurrence.id.in_(wanted))
        )
    )
    missing = sorted(str(value) for value in wanted - found)
    if missing:
        raise OccurrenceNotFound(ids=missing)


def create_session(
    session: Session, *, event: Event, fields: dict[str, Any], now: datetime
) -> EventSession:
    """A new session of the event. Raises EventCancelled, EventCompleted,
    OccurrenceNotFound (a specific occurrence that is not the event's)."""
    _check_event_open(event)
    _check_occurrences(session, event, fields.get("occurrence_ids"))
    item = EventSession(
        event_id=event.id, enrolled_count=0, waitlisted_count=0, created_at=now, **fields
    )
    session.add(item)
    session.flush()
    return item


def first_date(
    session: Session,
    item: EventSession,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> datetime | None:
    """The start of the session's first live date in [since, until), if any: one
    indexed query, never the event's whole list of dates."""
    query = select(Occurrence.starts_at).where(
        Occurrence.event_id == item.event_id, Occurrence.cancelled.is_(False)
    )
    if item.occurrence_ids is not None:
        ids = [uuid.UUID(value) for value in item.occurrence_ids]
        query = query.where(Occurrence.id.in_(ids))
    if since is not None:
        query = query.where(Occurrence.starts_at >= since)
    if until is not None:
        query = query.where(Occurrence.starts_at < until)
    return session.scalars(query.order_by(Occurrence.starts_at).limit(1)).first()


def get_session(session: Session, *, event: Event, session_id: str) -> EventSession:
    try:
        key = uuid.UUID(session_id)
    except ValueError:
        raise SessionNotFound(id=session_id) from None
    item = session.get(EventSession, key)
    if item is None or item.event_id != event.id:
        raise SessionNotFound(id=session_id)
    return item


def update_session(
    session: Session, *, event: Event, item: EventSession, changes: dict[str, Any]
) -> EventSession:
    """Apply the given changes. Raises EventCancelled, EventCompleted,
    OccurrenceNotFound, CapacityBelowEnrolled."""
    _check_event_open(event)
    if "occurrence_ids" in changes:
        _check_occurrences(session, event, changes["occurrence_ids"])
    capacity = changes.get("capacity")
    if capacity is not None and capacity < item.enrolled_count:
        raise CapacityBelowEnrolled(capacity=capacity, enrolled=item.enrolled_count)
    for field, value in changes.items():
        if field in ("name", "status") and value is None:
            continue
        setattr(item, field, value)
    if changes.get("status") is not None:
        # The organiser decided: the next publish leaves this session as set.
        item.paused_by_unpublish = False
    session.flush()
    return item


def list_sessions(session: Session, *, event: Event) -> list[EventSession]:
    return list(
        session.scalars(
            select(EventSession)
            .where(EventSession.event_id == event.id)
            .order_by(EventSession.created_at, EventSession.id)
        )
    )
