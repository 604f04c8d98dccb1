"""Enrolling attendees: the rules of who may take a seat, and taking it."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from domain import capacity
from domain.enrollment_mail import TEMPLATES, queue_enrollment_mail
from domain.errors import (
    AlreadyEnrolled,
    DomainError,
    EventCancelled,
    EventCompleted,
    EventFull,
    EventNotPublished,
    MaxEnrollmentsReached,
    RegistrationClosed,
    RegistrationNotOpen,
)
from domain.scopes import EVENT_SCOPE, Scope, resolve_scope
from domain.seating import Level, admit, effective_capacity, may_enroll_more
from domain.waitlist import new_manual_payment, waitlist_position
from models import Attendee, EmailMessage, Enrollment, Event, Payment
from models.enrollment import ACTIVE_STATUSES

__all__ = [
    "EVENT_SCOPE",
    "active_enrollment",
    "enroll_attendee",
    "enrollment_refusal",
    "waitlist_position",
]


def enrollment_refusal(event: Event, *, now: datetime) -> DomainError | None:
    """Why this event takes no enrollment at ``now``, or None. Pure."""
    if event.cancelled:
        return EventCancelled()
    if event.status == "completed":
        return EventCompleted()
    if event.status != "published":
        return EventNotPublished()
    if event.registration_end is not None and now >= event.registration_end:
        return RegistrationClosed(registration_end=event.registration_end.isoformat())
    if event.booking_start is not None and now < event.booking_start:
        return RegistrationNotOpen(booking_start=event.booking_start.isoformat())
    return None


def active_enrollment(
    session: Session, *, event_id: uuid.UUID, attendee_id: uuid.UUID, scope_key: str
) -> Enrollment | None:
    return session.scalar(
        select(Enrollment).where(
            Enrollment.event_id == event_id,
            Enrollment.attendee_id == attendee_id,
            Enrollment.scope_key == scope_key,
            Enrollment.status.in_(ACTIVE_STATUSES),
        )
    )


def check_per_attendee_limit(session: Session, *, event: Event, attendee: Attendee) -> None:
    """Raise MaxEnrollmentsReached when the attendee holds ``max_per_attendee``
    active enrollments in the event. Locks the attendee row first, so two
    concurrent requests of one attendee are counted one after the other."""
    if event.max_per_attendee is None:
        return
    session.execute(select(Attendee.id).where(Attendee.id == attendee.id).with_for_update())
    active = session.scalar(
        select(func.count())
        .select_from(Enrollment)
        .where(
            Enrollment.event_id == event.id,
            Enrollment.attendee_id == attendee.id,
            Enrollment.status.in_(ACTIVE_STATUSES),
        )
    )
    if not may_enroll_more(event.max_per_attendee, int(active or 0)):
        raise MaxEnrollmentsReached(max_per_attendee=event.max_per_attendee)


def enroll_attendee(
    session: Session,
    *,
    event: Event,
    attendee: Attendee,
    now: datetime,
    requested_at: datetime,
    request_seq: int = 0,
    job_id: uuid.UUID | None = None,
    scope: Scope | None = None,
) -> Enrollment:
    """Enroll into the scope (default: the event), or waitlist when full and the
    event has a waiting list.

    Raises the refusal of ``enrollment_refusal``, the scope errors of
    ``resolve_scope``, AlreadyEnrolled, MaxEnrollmentsReached or EventFull.
    Creates the ``manual_enrolled`` zero payment for a granted seat and queues
    the confirmation (or waiting-list) mail in the same transaction.
    """
    refusal = enrollment_refusal(event, now=now)
    if refusal is not None:
        raise refusal
    if scope is None:
        scope = resolve_scope(session, event=event)
    if active_enrollment(session, event_id=event.id, attendee_id=attendee.id, scope_key=scope.key):
        raise AlreadyEnrolled(attendee_ref=attendee.ref)
    check_per_attendee_limit(session, event=event, attendee=attendee)
    # Everything is written first on a guess, and the seat is taken last: the
    # counter row's lock is then held only from the seat to the commit, which
    # is what bounds throughput when many workers enroll into one event.
    guess = (
        "enrolled"
        if admit(_known_levels(session, scope, event), waiting_list=True) == "enrolled"
        else "waitlisted"
    )
    enrollment = Enrollment(
        organisation_id=event.organisation_id,
        event_id=event.id,
        occurrence_id=scope.occurrence_id,
        session_id=scope.session_id,
        attendee_id=attendee.id,
        scope_key=scope.key,
        status=guess,
        requested_at=requested_at,
        request_seq=request_seq,
        enrolled_at=now if guess == "enrolled" else None,
        job_id=job_id,
        created_at=now,
        updated_at=now,
    )
    session.add(enrollment)
    try:
        session.flush()
    except IntegrityError as exc:
        # The partial unique index: the same attendee, concurrently. The caller's
        # savepoint rolls back everything of this attempt.
        raise AlreadyEnrolled(attendee_ref=attendee.ref) from exc
    payment = new_manual_payment(event, attendee.id, enrollment.id, now)
    if guess == "enrolled":
        session.add(payment)
    mail = queue_enrollment_mail(
        session,
        outcome=guess,
        event=event,
        attendee=attendee,
        enrollment=enrollment,
        now=now,
        job_id=job_id,
        waitlist_position=waitlist_position(session, enrollment),
    )
    if capacity.take_seats(session, scope.rows):
        status = "enrolled"
    elif event.waiting_list:
        status = "waitlisted"
        capacity.add_waitlisted_at(session, scope.rows[0], 1)
    else:
        raise EventFull(max_subscriptions=event.max_subscriptions)
    if status != guess:
        _correct_guess(session, enrollment=enrollment, payment=payment, mail=mail, now=now)
    return enrollment


def _known_levels(session: Session, scope: Scope, event: Event) -> list[Level]:
    """The counters as last read (no lock): only a guess, the seat decides."""
    levels = []
    for row in scope.rows:
        if row.model is Event:
            own, enrolled = event.max_subscriptions, event.enrolled_count
        else:
            owner = session.get(row.model, row.id)
            own = getattr(owner, "capacity", None)
            enrolled = getattr(owner, "enrolled_count", 0)
        levels.append(Level(effective_capacity(own, row.fallback), enrolled or 0))
    return levels


def _correct_guess(
    session: Session, *, enrollment: Enrollment, payment: Payment, mail: EmailMessage, now: datetime
) -> None:
    """The seat went the other way than guessed: fix the rows written on the guess."""
    if enrollment.status == "enrolled":
        enrollment.status = "waitlisted"
        enrollment.enrolled_at = None
        session.delete(payment)
        session.flush()
        mail.template = TEMPLATES["waitlisted"]
        info = {"id": str(enrollment.id), "status": "waitlisted"}
        info["waitlist_position"] = waitlist_position(session, enrollment)  # type: ignore[assignment]
    else:
        enrollment.status = "enrolled"
        enrollment.enrolled_at = now
        session.add(payment)
        mail.template = TEMPLATES["enrolled"]
        info = {"id": str(enrollment.id), "status": "enrolled"}
    mail.context = {**mail.context, "enrollment": info}
