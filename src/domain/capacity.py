"""Seats: the capacity invariant, enforced by the database.

A seat is taken with one conditional UPDATE on the row that owns the capacity:

    UPDATE events SET enrolled_count = enrolled_count + 1
    WHERE id = :id AND (max_subscriptions IS NULL OR enrolled_count < max_subscriptions)

On PostgreSQL the UPDATE takes the row lock; a concurrent UPDATE waits for it
and re-evaluates the WHERE clause on the committed row (READ COMMITTED), so two
workers can never both take the last seat. On SQLite every write transaction
starts with BEGIN IMMEDIATE, which serialises writers outright. No count is
ever read and then written back.
"""

from __future__ import annotations

import uuid

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from models import Event, EventSession, Occurrence

SeatOwner = type[Event] | type[Occurrence] | type[EventSession]


def has_room(capacity: int | None, enrolled: int) -> bool:
    """The pure rule: unlimited, or fewer enrolled than capacity."""
    return capacity is None or enrolled < capacity


def take_seat(session: Session, *, event_id: uuid.UUID) -> bool:
    """Take one seat of the event if one is free; True if taken."""
    result = session.execute(
        update(Event)
        .where(
            Event.id == event_id,
            or_(Event.max_subscriptions.is_(None), Event.enrolled_count < Event.max_subscriptions),
        )
        .values(enrolled_count=Event.enrolled_count + 1)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined,no-any-return]


def release_seat(session: Session, *, event_id: uuid.UUID) -> None:
    session.execute(
        update(Event)
        .where(Event.id == event_id, Event.enrolled_count > 0)
        .values(enrolled_count=Event.enrolled_count - 1)
        .execution_options(synchronize_session=False)
    )


def add_waitlisted(session: Session, *, event_id: uuid.UUID, delta: int) -> None:
    session.execute(
        update(Event)
        .where(Event.id == event_id)
        .values(waitlisted_count=Event.waitlisted_count + delta)
        .execution_options(synchronize_session=False)
    )
