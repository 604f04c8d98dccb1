"""Job handlers for enrollment jobs: payload in, domain call, result out."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from rollcall.domain.access.scopes import resolve_scope
from rollcall.domain.enrollment.admission import waitlist_position
from rollcall.domain.enrollment.bulk.run import BULK_ENROLL, run_bulk_enroll
from rollcall.domain.enrollment.group import lock_event, run_enroll_jobs
from rollcall.domain.enrollment.group_line import ENROLL
from rollcall.domain.enrollment.moving import move_enrollment
from rollcall.domain.enrollment.removal import cancel_enrollment, remove_attendee
from rollcall.domain.jobs.engine import groups, handles, runs
from rollcall.models import Enrollment, Job

__all__ = ["BULK_ENROLL", "CANCEL", "ENROLL", "MOVE", "REMOVE"]

REMOVE = "remove"
CANCEL = "cancel"
MOVE = "move"

runs(BULK_ENROLL)(run_bulk_enroll)
# Single enroll jobs are applied in groups per event (domain.enrollment.group).
groups(ENROLL)(run_enroll_jobs)


def _described(session: Session, enrollment: Enrollment) -> dict[str, Any]:
    return {
        "enrollment_id": str(enrollment.id),
        "event_id": str(enrollment.event_id),
        "scope": enrollment.scope_key,
        "attendee_ref": enrollment.attendee.ref,
        "status": enrollment.status,
        "waitlist_position": waitlist_position(session, enrollment),
    }


def _ended(session: Session, enrollment: Enrollment, promoted: list[Enrollment]) -> dict[str, Any]:
    result = _described(session, enrollment)
    result["promoted"] = [
        {"enrollment_id": str(p.id), "attendee_ref": p.attendee.ref} for p in promoted
    ]
    return result


@handles(REMOVE)
def apply_remove(session: Session, job: Job, now: datetime) -> dict[str, Any]:
    payload = job.payload
    event = lock_event(session, job)
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
    event = lock_event(session, job)
    enrollment, promoted = cancel_enrollment(
        session,
        event=event,
        enrollment_id=uuid.UUID(job.payload["enrollment_id"]),
        now=now,
        job_id=job.id,
    )
    return _ended(session, enrollment, promoted)


@handles(MOVE)
def apply_move(session: Session, job: Job, now: datetime) -> dict[str, Any]:
    payload = job.payload
    event = lock_event(session, job)
    target = resolve_scope(
        session,
        event=event,
        occurrence_id=payload.get("occurrence_id"),
        session_id=payload.get("session_id"),
    )
    moved = move_enrollment(
        session,
        event=event,
        enrollment_id=uuid.UUID(payload["enrollment_id"]),
        target=target,
        now=now,
        requested_at=job.created_at,
        job_id=job.id,
    )
    result = _ended(session, moved.enrollment, moved.promoted)
    result["from_scope"] = moved.from_scope
    result["was"] = moved.was
    return result
