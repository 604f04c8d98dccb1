"""Job handlers of event management: the cancellation fan-out, and the scheduler's
horizon expansion and completion passes. Payload in, domain call, result out."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from rollcall.domain.events.admin import complete_due_events
from rollcall.domain.events.occurrences import EXPANSION_SLACK, expand_events
from rollcall.domain.jobs.engine import handles
from rollcall.domain.jobs.row_guard import SkippedRow, counting_skips
from rollcall.domain.ops.mail import attendee_context, event_context, queue_email
from rollcall.models import (
    Attendee,
    EmailMessage,
    Enrollment,
    Event,
    EventSession,
    Job,
    Occurrence,
    Trainer,
)
from rollcall.models.enrollment import ACTIVE_STATUSES

NOTIFY_CANCELLATION = "notify_cancellation"
EXPAND_OCCURRENCES = "expand_occurrences"
COMPLETE_EVENTS = "complete_events"


def trainer_ids(session: Session, *, event: Event) -> set[uuid.UUID]:
    return set(session.scalars(select(Trainer.attendee_id).where(Trainer.event_id == event.id)))


def cancellation_recipients(
    session: Session, *, event: Event, occurrence: Occurrence | None
) -> list[Attendee]:
    """Every attendee enrolled or waitlisted in the event (or, for one occurrence,
    in that occurrence or in the event as a whole), and every trainer of the
    event, each once, by ref."""
    query = select(Enrollment.attendee_id).where(
        Enrollment.event_id == event.id, Enrollment.status.in_(ACTIVE_STATUSES)
    )
    if occurrence is not None:
        query = query.where(
            or_(Enrollment.occurrence_id == occurrence.id, Enrollment.occurrence_id.is_(None))
        )
    ids = set(session.scalars(query)) | trainer_ids(session, event=event)
    if not ids:
        return []
    return list(
        session.scalars(select(Attendee).where(Attendee.id.in_(ids)).order_by(Attendee.ref))
    )


def live_dates(
    session: Session, *, event: Event, now: datetime, without: Occurrence | None = None
) -> set[uuid.UUID]:
    """The event's dates not cancelled and not ended (but ``without``)."""
    query = select(Occurrence.id).where(
        Occurrence.event_id == event.id,
        Occurrence.cancelled.is_(False),
        Occurrence.ends_at > now,
    )
    if without is not None:
        query = query.where(Occurrence.id != without.id)
    return set(session.scalars(query))


def dates_by_attendee(
    session: Session, *, event: Event, live: set[uuid.UUID]
) -> dict[uuid.UUID, set[uuid.UUID]]:
    """Per attendee with an active enrollment in the event, which of the
    ``live`` dates it holds a seat on. A seat in the event as a whole is a seat
    on each of its dates, a session's on the dates it runs on, a per-date seat
    on its own date."""
    rows = session.execute(
        select(Enrollment.attendee_id, Enrollment.occurrence_id, EventSession.occurrence_ids)
        .outerjoin(EventSession, EventSession.id == Enrollment.session_id)
        .where(Enrollment.event_id == event.id, Enrollment.status.in_(ACTIVE_STATUSES))
    ).all()
    out: dict[uuid.UUID, set[uuid.UUID]] = {}
    for attendee_id, occurrence_id, session_dates in rows:
        if occurrence_id is not None:
            dates = {occurrence_id}
        elif session_dates is not None:
            dates = {uuid.UUID(value) for value in session_dates}
        else:
            dates = live
        out.setdefault(attendee_id, set()).update(dates & live)
    return out


def other_dates(
    session: Session, *, event: Event, occurrence: Occurrence, now: datetime
) -> dict[uuid.UUID, set[uuid.UUID]]:
    """Per attendee with an active enrollment in the event, the other dates it
    still has there besides ``occurrence``: not cancelled, not ended."""
    live = live_dates(session, event=event, now=now, without=occurrence)
    return dates_by_attendee(session, event=event, live=live)


def notify_cancellation(
    session: Session,
    *,
    event: Event,
    occurrence: Occurrence | None,
    reason: str,
    now: datetime,
    job_id: uuid.UUID | None,
) -> dict[str, int]:
    """Queue one cancellation mail per recipient, exactly once each.

    Each mail has the dedupe key ``<template>:<event or occurrence id>:<attendee
    id>``: one already recorded (a repeated job, a second cancel request) is
    not queued again.
    """
    template = "event_cancelled" if occurrence is None else "occurrence_cancelled"
    subject_id = event.id if occurrence is None else occurrence.id
    people = cancellation_recipients(session, event=event, occurrence=occurrence)
    keys = {person.id: f"{template}:{subject_id}:{person.id}" for person in people}
    already = (
        set(
            session.scalars(
                select(EmailMessage.dedupe_key).where(EmailMessage.dedupe_key.in_(keys.values()))
            )
        )
        if keys
        else set()
    )
    context_event = event_context(event)
    context_occurrence = (
        None
        if occurrence is None
        else {
            "id": str(occurrence.id),
            "starts_at": occurrence.starts_at.isoformat(),
            "ends_at": occurrence.ends_at.isoformat(),
        }
    )
    others = (
        {}
        if occurrence is None
        else other_dates(session, event=event, occurrence=occurrence, now=now)
    )
    queued = 0
    for person in people:
        if keys[person.id] in already:
            continue
        queue_email(
            session,
            organisation_id=event.organisation_id,
            template=template,
            to_address=person.email,
            to_name=person.name,
            context={
                "event": context_event,
                "occurrence": context_occurrence,
                "attendee": attendee_context(person),
                "reason": reason,
                "other_dates": len(others.get(person.id, ())),
            },
            now=now,
            job_id=job_id,
            dedupe_key=keys[person.id],
            about=(person.id, event.id),
        )
        queued += 1
    return {"recipients": len(people), "notified": queued, "already_notified": len(people) - queued}


@handles(NOTIFY_CANCELLATION)
def apply_notify_cancellation(session: Session, job: Job, now: datetime) -> dict[str, Any]:
    payload = job.payload
    event = session.get(Event, uuid.UUID(payload["event_id"]), populate_existing=True)
    assert event is not None
    occurrence = None
    if payload.get("occurrence_id"):
        occurrence = session.get(Occurrence, uuid.UUID(payload["occurrence_id"]))
        assert occurrence is not None
    counts = notify_cancellation(
        session,
        event=event,
        occurrence=occurrence,
        reason=payload.get("reason") or "",
        now=now,
        job_id=job.id,
    )
    return {"event_id": str(event.id), "occurrence_id": payload.get("occurrence_id"), **counts}


@handles(EXPAND_OCCURRENCES)
def apply_expand_occurrences(session: Session, job: Job, now: datetime) -> dict[str, Any]:
    """Expand the organisation's recurring events up to the tick's horizon (plus slack)."""
    until = datetime.fromisoformat(job.payload["until"])
    events = session.scalars(
        select(Event).where(
            Event.organisation_id == job.organisation_id,
            Event.cancelled.is_(False),
            Event.status != "completed",
            Event.expanded_until < until,
        )
    ).all()
    with counting_skips() as skipped:
        created = expand_events(
            session, events=events, until=until + EXPANSION_SLACK, skip_bad=True
        )
    return {"events": len(events), "occurrences_created": created} | _skipped(skipped)


@handles(COMPLETE_EVENTS)
def apply_complete_events(session: Session, job: Job, now: datetime) -> dict[str, Any]:
    """Complete the organisation's events that had ended at the scheduler's tick."""
    as_of = datetime.fromisoformat(job.payload["as_of"])
    with counting_skips() as skipped:
        done = complete_due_events(session, organisation_id=job.organisation_id, now=as_of)
    return {"completed": [str(event_id) for event_id in done]} | _skipped(skipped)


def _skipped(rows: list[SkippedRow]) -> dict[str, Any]:
    """The events a pass skipped (domain.jobs.row_guard), shown in the job's result."""
    return {"skipped": [{"row": row.what, "error": row.error} for row in rows]} if rows else {}
