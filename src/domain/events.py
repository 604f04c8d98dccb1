"""Events: resolution by id or ref inside one organisation, creation, publishing."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from domain.errors import (
    EventAlreadyPublished,
    EventCancelled,
    EventCompleted,
    EventNotFound,
    EventRefTaken,
)
from models import Event, Occurrence


def get_event(session: Session, *, organisation_id: uuid.UUID, id_or_ref: str) -> Event:
    """The organisation's event with this id or ref.

    Another organisation's event is "not found", never "forbidden".
    """
    try:
        event_id: uuid.UUID | None = uuid.UUID(id_or_ref)
    except ValueError:
        event_id = None
    query = select(Event).where(Event.organisation_id == organisation_id)
    event = None
    if event_id is not None:
        event = session.scalar(query.where(Event.id == event_id))
    if event is None:
        event = session.scalar(query.where(Event.ref == id_or_ref))
    if event is None:
        raise EventNotFound(id=id_or_ref)
    return event


def create_event(
    session: Session, *, organisation_id: uuid.UUID, fields: dict[str, Any], now: datetime
) -> Event:
    """A new draft event; one occurrence when it has a single start and end."""
    event = Event(
        organisation_id=organisation_id,
        status="draft",
        created_at=now,
        updated_at=now,
        enrolled_count=0,
        waitlisted_count=0,
        settings={},
        **fields,
    )
    try:
        with session.begin_nested():
            session.add(event)
            session.flush()
    except IntegrityError as exc:
        raise EventRefTaken(ref=fields.get("ref")) from exc
    if event.starts_at is not None and event.ends_at is not None and event.recurrence is None:
        session.add(
            Occurrence(
                event_id=event.id,
                starts_at=event.starts_at,
                ends_at=event.ends_at,
                cancelled=False,
                enrolled_count=0,
                waitlisted_count=0,
            )
        )
        session.flush()
    return event


def publish_event(session: Session, *, event: Event, now: datetime) -> Event:
    if event.status == "completed":
        raise EventCompleted()
    if event.cancelled:
        raise EventCancelled()
    if event.status == "published":
        raise EventAlreadyPublished()
    event.status = "published"
    event.published_at = now
    event.updated_at = now
    return event
