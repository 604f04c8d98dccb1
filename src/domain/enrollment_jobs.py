"""Job handlers for enrollment jobs: payload in, domain call, result out."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from domain.attendees import upsert_attendee
from domain.bulk import BULK_ENROLL, run_bulk_enroll
from domain.enrollment import enroll_attendee, waitlist_position
from domain.errors import EventNotFound
from domain.jobs import handles, runs
from domain.removal import cancel_enrollment, remove_attendee
from domain.scopes import resolve_scope
from models import Enrollment, Event, Job

ENROLL = "enroll"
REMOVE = "remove"
CANCEL = "cancel"

runs(BULK_ENROLL)(run_bulk_enroll)


def _event(session: Session, job: Job) -> Event:
    # Lock order: the event row first, before any flush. The seat counters and
    # the calendar cache (after_flush) both lock it too; taking it up front keeps
    # every enrollment transaction in one order, so they queue instead of deadlocking.
    event = session.get(
        Event, uuid.UUID(job.payload["event_id"]), populate_existing=True, with_for_update=True
    )
    if event is None or event.organisation_id != job.organisation_id:
        raise EventNotFound(id=job.payload["event_id"])
    return event


def _described(
    session: Session, enrollment: Enrollment, attendee_ref: str | None = None
) -> dict[str, Any]:
    return {
        "enrollment_id": str(enrollment.id),
        "event_id": str(enrollment.event_id),
        "scope": enrollment.scope_key,
        # A new enrollment's relationship is not loaded: the ref saves a query.
        "attendee_ref": attendee_ref or enrollment.attendee.ref,
        "status": enrollment.status,
        "waitlist_position": waitlist_position(session, enrollment),
    }


@handles(ENROLL)
def apply_enroll(session: Session, job: Job, now: datetime) -> dict[str, Any]:
    payload = job.payload
    event = _event(session, job)
    scope = resolve_scope(
        session,
        event=event,
        occurrence_id=payload.get("occurrence_id"),
        session_id=payload.get("session_id"),
    )
    person = payload["attendee"]
    attendee = upsert_attendee(
        session,
        organisation_id=job.organisation_id,
        ref=person["ref"],
        email=person["email"],
        name=person.get("name") or "",
        timezone=person.get("timezone"),
        locale=person.get("locale"),
        now=now,
    )
    enrollment = enroll_attendee(
        session,
        event=event,
        attendee=attendee,
        now=now,
        requested_at=job.created_at,
        job_id=job.id,
        scope=scope,
    )
    return _described(session, enrollment, attendee.ref)


def _ended(session: Session, enrollment: Enrollment, promoted: list[Enrollment]) -> dict[str, Any]:
    result = _described(session, enrollment)
    result["promoted"] = [
        {"enrollment_id": str(p.id), "attendee_ref": p.attendee.ref} for p in promoted
    ]
    return result


@handles(REMOVE)
def apply_remove(session: Session, job: Job, now: datetime) -> dict[str, Any]:
    payload = job.payload
    event = _event(session, job)
    scope = resolve_scope(
        session,
        event=event,
        occurrence_id=payload.get("occurrence_id"),
        session_id=payload.get("session_id"),
    )
    enrollment, promoted = remove_attendee(
        session,
        event=event,
        attendee_ref=payload["attendee_ref"],
        scope=scope,
        now=now,
        job_id=job.id,
    )
    return _ended(session, enrollment, promoted)


@handles(CANCEL)
def apply_cancel(session: Session, job: Job, now: datetime) -> dict[str, Any]:
    event = _event(session, job)
    enrollment, promoted = cancel_enrollment(
        session,
        event=event,
        enrollment_id=uuid.UUID(job.payload["enrollment_id"]),
        now=now,
        job_id=job.id,
    )
    return _ended(session, enrollment, promoted)
