"""Reads for many events at once, for GraphQL's DataLoaders: one statement per
kind of thing, whatever the number of events (no N+1)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from rollcall.models import Attendee, Event, Occurrence, Trainer


def dates_of_events(
    session: Session, *, event_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[Occurrence]]:
    """Each event's dates that are not cancelled, in order of start."""
    out: dict[uuid.UUID, list[Occurrence]] = defaultdict(list)
    rows = session.scalars(
        select(Occurrence)
        .where(Occurrence.event_id.in_(list(event_ids)), Occurrence.cancelled.is_(False))
        .order_by(Occurrence.event_id, Occurrence.starts_at)
    )
    for occurrence in rows:
        out[occurrence.event_id].append(occurrence)
    return out


def trainers_of_events(
    session: Session, *, event_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[Attendee]]:
    """Each event's trainers, by ref (as domain.events.trainers.list_trainers)."""
    out: dict[uuid.UUID, list[Attendee]] = defaultdict(list)
    rows = session.execute(
        select(Trainer.event_id, Attendee)
        .join(Attendee, Trainer.attendee_id == Attendee.id)
        .where(Trainer.event_id.in_(list(event_ids)))
        .order_by(Trainer.event_id, Attendee.ref)
    )
    for event_id, attendee in rows:
        out[event_id].append(attendee)
    return out


def events_of_offers(
    session: Session, *, organisation_id: uuid.UUID, offer_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[Event]]:
    """Each offer's events, oldest created first (as GET /v1/offers/{id}/events)."""
    out: dict[uuid.UUID, list[Event]] = defaultdict(list)
    rows = session.scalars(
        select(Event)
        .where(Event.organisation_id == organisation_id, Event.offer_id.in_(list(offer_ids)))
        .order_by(Event.created_at, Event.id)
    )
    for event in rows:
        if event.offer_id is not None:
            out[event.offer_id].append(event)
    return out
