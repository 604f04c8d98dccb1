"""The mail each enrollment outcome sends, queued in the caller's transaction."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from rollcall.domain.ops.mail import attendee_context, event_context, queue_email
from rollcall.models import Attendee, EmailMessage, Enrollment, Event, EventSession, Occurrence

#: Outcome -> template name in templates/email.
TEMPLATES = {
    "enrolled": "enrollment_confirmed",
    "waitlisted": "enrollment_waitlisted",
    "promoted": "enrollment_promoted",
    "removed": "enrollment_removed",
    "cancelled": "enrollment_cancelled",
    "moved": "enrollment_moved",
}


def shown_event(session: Session, event: Event, occurrence_id: uuid.UUID | None) -> dict[str, Any]:
    """What a mail says about the event; an occurrence enrollment shows the
    occurrence's own times."""
    shown = event_context(event)
    if occurrence_id is not None:
        occurrence = session.get(Occurrence, occurrence_id)
        if occurrence is not None:
            shown["starts_at"] = occurrence.starts_at.isoformat()
            shown["ends_at"] = occurrence.ends_at.isoformat()
    return shown


def enrollment_mail_context(
    session: Session,
    *,
    event: Event,
    attendee: Attendee,
    enrollment: Enrollment,
    waitlist_position: int | None = None,
) -> dict[str, Any]:
    """JSON-safe context; an occurrence enrollment shows the occurrence's times."""
    shown = shown_event(session, event, enrollment.occurrence_id)
    info: dict[str, Any] = {"id": str(enrollment.id), "status": enrollment.status}
    if waitlist_position is not None:
        info["waitlist_position"] = waitlist_position
    return {"event": shown, "attendee": attendee_context(attendee), "enrollment": info}


def queue_enrollment_mail(
    session: Session,
    *,
    outcome: str,
    event: Event,
    attendee: Attendee,
    enrollment: Enrollment,
    now: datetime,
    job_id: uuid.UUID | None,
    waitlist_position: int | None = None,
) -> EmailMessage:
    """Queue the mail for ``outcome`` (a key of TEMPLATES)."""
    return queue_email(
        session,
        organisation_id=event.organisation_id,
        template=TEMPLATES[outcome],
        to_address=attendee.email,
        to_name=attendee.name,
        context=enrollment_mail_context(
            session,
            event=event,
            attendee=attendee,
            enrollment=enrollment,
            waitlist_position=waitlist_position,
        ),
        now=now,
        job_id=job_id,
        about=(attendee.id, event.id),
    )


def queue_moved_mail(
    session: Session,
    *,
    event: Event,
    attendee: Attendee,
    enrollment: Enrollment,
    was: dict[str, Any],
    now: datetime,
    job_id: uuid.UUID | None,
) -> EmailMessage:
    """The one mail of a move: where the enrollment was (``was``: its status and
    the old times or session) and where it is now, with its status and place."""
    # Imported here: the waiting list's module imports this one.
    from rollcall.domain.enrollment.waitlist import waitlist_position

    context = enrollment_mail_context(
        session,
        event=event,
        attendee=attendee,
        enrollment=enrollment,
        waitlist_position=waitlist_position(session, enrollment),
    )
    part = session.get(EventSession, enrollment.session_id) if enrollment.session_id else None
    context["enrollment"]["session"] = part.name if part is not None else None
    context["was"] = was
    return queue_email(
        session,
        organisation_id=event.organisation_id,
        template=TEMPLATES["moved"],
        to_address=attendee.email,
        to_name=attendee.name,
        context=context,
        now=now,
        job_id=job_id,
        about=(attendee.id, event.id),
    )
