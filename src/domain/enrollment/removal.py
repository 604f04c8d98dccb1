"""Ending enrollments: removal (organiser) and cancellation (attendee).

Both free the seat and promote the first waitlisted attendee in the same
transaction. The ``manual_enrolled`` payment stays (seed 003): it becomes an
orphan, counted per attendee and event (domain.enrollment.queries).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from rollcall.domain.access.scopes import Scope, scope_of_key
from rollcall.domain.enrollment import capacity
from rollcall.domain.enrollment.mail import queue_enrollment_mail
from rollcall.domain.enrollment.waitlist import promote_waitlisted
from rollcall.domain.errors.enrollment import AttendeeNotFound, EnrollmentNotFound
from rollcall.domain.webhooks.causes import record_enrollment
from rollcall.models import Attendee, Enrollment, Event
from rollcall.models.enrollment import ACTIVE_STATUSES

EndStatus = Literal["removed", "cancelled"]


def end_enrollment(
    session: Session,
    *,
    event: Event,
    enrollment_id: uuid.UUID,
    status: EndStatus,
    now: datetime,
    job_id: uuid.UUID | None = None,
    notify: bool = True,
) -> tuple[Enrollment, list[Enrollment]]:
    """End an active enrollment; returns it and the enrollments promoted.
    ``notify=False`` mails nobody about it (an erased person); the promoted
    still get theirs.

    Raises EnrollmentNotFound when it is not active (already ended). The
    scope's counter rows and then the enrollment row are locked, so a
    concurrent promotion in the scope waits and then sees it ended.
    """
    current = session.get(Enrollment, enrollment_id)
    if current is None or current.event_id != event.id:
        raise EnrollmentNotFound(id=str(enrollment_id))
    scope = scope_of_key(event, current.scope_key)
    # Lock order of every seat change: the counter rows first, then enrollment
    # rows. Locking the enrollment first deadlocks against a promoter that holds
    # the counter and claims this very row.
    capacity.lock_levels(session, scope.rows)
    # FOR UPDATE OF enrollments: the eager-joined attendee is an outer join.
    enrollment = session.execute(
        select(Enrollment)
        .where(Enrollment.id == enrollment_id)
        .with_for_update(of=Enrollment)
        .execution_options(populate_existing=True)
    ).scalar_one()
    if enrollment.status not in ACTIVE_STATUSES:
        raise EnrollmentNotFound(id=str(enrollment_id), status=enrollment.status)
    held_seat = enrollment.status == "enrolled"
    enrollment.status = status
    enrollment.ended_at = now
    enrollment.updated_at = now
    session.flush()
    promoted: list[Enrollment] = []
    if held_seat:
        capacity.release_seats(session, scope.rows)
        promoted = promote_waitlisted(
            session, event=event, scope_key=enrollment.scope_key, now=now, job_id=job_id
        )
    else:
        capacity.add_waitlisted_at(session, scope.rows[0], -1)
    if not notify:
        return enrollment, promoted
    attendee = session.get(Attendee, enrollment.attendee_id)
    assert attendee is not None
    queue_enrollment_mail(
        session,
        outcome=status,
        event=event,
        attendee=attendee,
        enrollment=enrollment,
        now=now,
        job_id=job_id,
    )
    record_enrollment(
        session,
        outcome=status,
        event=event,
        enrollment=enrollment,
        attendee_ref=attendee.ref,
        now=now,
        job_id=job_id,
    )
    return enrollment, promoted


def remove_attendee(
    session: Session,
    *,
    event: Event,
    attendee_ref: str,
    scope: Scope,
    now: datetime,
    job_id: uuid.UUID | None = None,
) -> tuple[Enrollment, list[Enrollment]]:
    """The organiser removes an attendee from the scope.

    Raises AttendeeNotFound, or EnrollmentNotFound when not actively enrolled
    or waitlisted there.
    """
    attendee = session.scalar(
        select(Attendee).where(
            Attendee.organisation_id == event.organisation_id, Attendee.ref == attendee_ref
        )
    )
    if attendee is None:
        raise AttendeeNotFound(ref=attendee_ref)
    enrollment_id = session.scalar(
        select(Enrollment.id).where(
            Enrollment.event_id == event.id,
            Enrollment.attendee_id == attendee.id,
            Enrollment.scope_key == scope.key,
            Enrollment.status.in_(ACTIVE_STATUSES),
        )
    )
    if enrollment_id is None:
        raise EnrollmentNotFound(attendee_ref=attendee_ref, scope=scope.key)
    return end_enrollment(
        session,
        event=event,
        enrollment_id=enrollment_id,
        status="removed",
        now=now,
        job_id=job_id,
    )


def cancel_enrollment(
    session: Session,
    *,
    event: Event,
    enrollment_id: uuid.UUID,
    now: datetime,
    job_id: uuid.UUID | None = None,
) -> tuple[Enrollment, list[Enrollment]]:
    """The attendee cancels their enrollment (or waiting-list place)."""
    return end_enrollment(
        session,
        event=event,
        enrollment_id=enrollment_id,
        status="cancelled",
        now=now,
        job_id=job_id,
    )


__all__ = ["cancel_enrollment", "end_enrollment", "remove_attendee", "scope_of_key"]
