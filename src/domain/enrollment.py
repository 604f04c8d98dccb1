"""Enrolling attendees: the rules of who may take a seat, and taking it."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from domain import capacity
from domain.errors import (
    AlreadyEnrolled,
    DomainError,
    EventCancelled,
    EventCompleted,
    EventFull,
    EventNotPublished,
    RegistrationClosed,
    RegistrationNotOpen,
)
from domain.mail import attendee_context, event_context, queue_email
from models import Attendee, Enrollment, Event, Payment

EVENT_SCOPE = "event"


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
            Enrollment.status.in_(("enrolled", "waitlisted")),
        )
    )


def waitlist_position(session: Session, enrollment: Enrollment) -> int | None:
    """1-based place on the waiting list, by when the request was accepted."""
    if enrollment.status != "waitlisted":
        return None
    ahead = session.scalar(
        select(func.count())
        .select_from(Enrollment)
        .where(
            Enrollment.event_id == enrollment.event_id,
            Enrollment.scope_key == enrollment.scope_key,
            Enrollment.status == "waitlisted",
            or_(
                Enrollment.requested_at < enrollment.requested_at,
                and_(
                    Enrollment.requested_at == enrollment.requested_at,
                    Enrollment.request_seq < enrollment.request_seq,
                ),
            ),
        )
    )
    return int(ahead or 0) + 1


def enroll_attendee(
    session: Session,
    *,
    event: Event,
    attendee: Attendee,
    now: datetime,
    requested_at: datetime,
    request_seq: int = 0,
    job_id: uuid.UUID | None = None,
) -> Enrollment:
    """Enroll, or waitlist when full and the event has a waiting list.

    Raises the refusal of ``enrollment_refusal``, AlreadyEnrolled, or EventFull.
    Creates the ``manual_enrolled`` zero payment for a granted seat and queues
    the confirmation (or waiting-list) mail in the same transaction.
    """
    refusal = enrollment_refusal(event, now=now)
    if refusal is not None:
        raise refusal
    if active_enrollment(
        session, event_id=event.id, attendee_id=attendee.id, scope_key=EVENT_SCOPE
    ):
        raise AlreadyEnrolled(attendee_ref=attendee.ref)
    if capacity.take_seat(session, event_id=event.id):
        status = "enrolled"
    elif event.waiting_list:
        status = "waitlisted"
        capacity.add_waitlisted(session, event_id=event.id, delta=1)
    else:
        raise EventFull(max_subscriptions=event.max_subscriptions)
    enrollment = Enrollment(
        organisation_id=event.organisation_id,
        event_id=event.id,
        attendee_id=attendee.id,
        scope_key=EVENT_SCOPE,
        status=status,
        requested_at=requested_at,
        request_seq=request_seq,
        enrolled_at=now if status == "enrolled" else None,
        job_id=job_id,
        created_at=now,
        updated_at=now,
    )
    session.add(enrollment)
    session.flush()
    if status == "enrolled":
        session.add(
            Payment(
                organisation_id=event.organisation_id,
                event_id=event.id,
                attendee_id=attendee.id,
                enrollment_id=enrollment.id,
                state="manual_enrolled",
                amount=Decimal("0"),
                created_at=now,
            )
        )
    context: dict[str, Any] = {
        "event": event_context(event),
        "attendee": attendee_context(attendee),
        "enrollment": {"id": str(enrollment.id), "status": status},
    }
    if status == "waitlisted":
        context["enrollment"]["waitlist_position"] = waitlist_position(session, enrollment)
    queue_email(
        session,
        organisation_id=event.organisation_id,
        template="enrollment_confirmed" if status == "enrolled" else "enrollment_waitlisted",
        to_address=attendee.email,
        to_name=attendee.name,
        context=context,
        now=now,
        job_id=job_id,
    )
    return enrollment
