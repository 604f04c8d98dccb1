"""Trainers (seed 000): attendees of the organisation, added and removed by ids or refs."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from rollcall.domain.errors.enrollment import AttendeeNotFound
from rollcall.domain.errors.events import EventCancelled, EventCompleted
from rollcall.models import Attendee, Event, Trainer


def resolve_attendees(
    session: Session, *, organisation_id: uuid.UUID, ids: Sequence[uuid.UUID], refs: Sequence[str]
) -> list[Attendee]:
    """The organisation's attendees with these ids or refs; raises AttendeeNotFound
    listing every one that is not there (another organisation's too)."""
    if not ids and not refs:
        return []
    found = list(
        session.scalars(
            select(Attendee).where(
                Attendee.organisation_id == organisation_id,
                Attendee.erased_at.is_(None),
                or_(Attendee.id.in_(list(ids)), Attendee.ref.in_(list(refs))),
            )
        )
    )
    missing_ids = sorted(str(i) for i in set(ids) - {a.id for a in found})
    missing_refs = sorted(set(refs) - {a.ref for a in found})
    if missing_ids or missing_refs:
        raise AttendeeNotFound(ids=missing_ids, refs=missing_refs)
    return found


def _check_event_open(event: Event) -> None:
    if event.cancelled:
        raise EventCancelled()
    if event.status == "completed":
        raise EventCompleted()


def add_trainers(
    session: Session, *, event: Event, ids: Sequence[uuid.UUID], refs: Sequence[str]
) -> list[Attendee]:
    """Make these attendees trainers of the event (again is a no-op); returns all trainers."""
    _check_event_open(event)
    people = resolve_attendees(session, organisation_id=event.organisation_id, ids=ids, refs=refs)
    present = set(session.scalars(select(Trainer.attendee_id).where(Trainer.event_id == event.id)))
    for person in people:
        if person.id not in present:
            session.add(Trainer(event_id=event.id, attendee_id=person.id))
            present.add(person.id)
    session.flush()
    return list_trainers(session, event=event)


def remove_trainers(
    session: Session, *, event: Event, ids: Sequence[uuid.UUID], refs: Sequence[str]
) -> list[Attendee]:
    """These attendees are no longer trainers of the event; returns the rest."""
    _check_event_open(event)
    people = resolve_attendees(session, organisation_id=event.organisation_id, ids=ids, refs=refs)
    if people:
        session.execute(
            delete(Trainer).where(
                Trainer.event_id == event.id, Trainer.attendee_id.in_([p.id for p in people])
            )
        )
    return list_trainers(session, event=event)


def list_trainers(session: Session, *, event: Event) -> list[Attendee]:
    return list(
        session.scalars(
            select(Attendee)
            .join(Trainer, Trainer.attendee_id == Attendee.id)
            .where(Trainer.event_id == event.id)
            .order_by(Attendee.ref)
        )
    )
