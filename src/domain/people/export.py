"""Everything Rollcall holds about one person, as JSON-safe data.

Token metadata only: never a token, its prefix or its hash. Mails: those addressed to
the person (by attendee, or by address for the unordered ones such as
reminders), without their bodies' context (it repeats what is listed here).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from rollcall.models import Attendee, EmailMessage, Enrollment, Event, Payment, Trainer
from rollcall.models.calendar import AttendeeToken, CalendarBookmark


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def export_attendee(session: Session, *, attendee: Attendee) -> dict[str, Any]:
    """The person's details, enrollments, payments, trainer roles, bookmarks,
    end-user tokens (metadata) and mails, each list oldest first."""
    events = {
        e.id: e
        for e in session.scalars(
            select(Event).where(
                or_(
                    Event.id.in_(
                        select(Enrollment.event_id).where(Enrollment.attendee_id == attendee.id)
                    ),
                    Event.id.in_(
                        select(Trainer.event_id).where(Trainer.attendee_id == attendee.id)
                    ),
                )
            )
        )
    }

    def about(event_id: Any) -> dict[str, Any]:
        event = events.get(event_id)
        return {
            "event_id": str(event_id),
            "event_ref": event.ref if event else None,
            "event_name": event.name if event else None,
        }

    enrollments = session.scalars(
        select(Enrollment)
        .where(Enrollment.attendee_id == attendee.id)
        .order_by(Enrollment.created_at, Enrollment.id)
    ).all()
    payments = session.scalars(
        select(Payment)
        .where(Payment.attendee_id == attendee.id)
        .order_by(Payment.created_at, Payment.id)
    ).all()
    trainer_of = session.scalars(
        select(Trainer.event_id).where(Trainer.attendee_id == attendee.id)
    ).all()
    bookmarks = session.scalars(
        select(CalendarBookmark)
        .where(CalendarBookmark.attendee_id == attendee.id)
        .order_by(CalendarBookmark.created_at)
    ).all()
    tokens = session.scalars(
        select(AttendeeToken)
        .where(AttendeeToken.attendee_id == attendee.id)
        .order_by(AttendeeToken.created_at, AttendeeToken.id)
    ).all()
    mails = session.scalars(
        select(EmailMessage)
        .where(
            EmailMessage.organisation_id == attendee.organisation_id,
            or_(
                EmailMessage.attendee_id == attendee.id,
                EmailMessage.to_address == attendee.email,
            ),
        )
        .order_by(EmailMessage.created_at, EmailMessage.id)
    ).all()
    return {
        "attendee": {
            "id": str(attendee.id),
            "ref": attendee.ref,
            "email": attendee.email,
            "name": attendee.name,
            "timezone": attendee.timezone,
            "locale": attendee.locale,
            "created_at": _when(attendee.created_at),
            "updated_at": _when(attendee.updated_at),
        },
        "enrollments": [
            {
                "id": str(e.id),
                **about(e.event_id),
                "scope": e.scope_key,
                "occurrence_id": str(e.occurrence_id) if e.occurrence_id else None,
                "session_id": str(e.session_id) if e.session_id else None,
                "status": e.status,
                "requested_at": _when(e.requested_at),
                "enrolled_at": _when(e.enrolled_at),
                "ended_at": _when(e.ended_at),
            }
            for e in enrollments
        ],
        "payments": [
            {
                "id": str(p.id),
                "event_id": str(p.event_id),
                "enrollment_id": str(p.enrollment_id) if p.enrollment_id else None,
                "state": p.state,
                "amount": str(p.amount),
                "created_at": _when(p.created_at),
            }
            for p in payments
        ],
        "trainer_of": [about(event_id) for event_id in trainer_of],
        "bookmarks": [
            {
                "event_id": str(b.event_id),
                "occurrence_id": str(b.occurrence_id),
                "created_at": _when(b.created_at),
            }
            for b in bookmarks
        ],
        "tokens": [
            {
                "id": str(t.id),
                "scope": t.scope,
                "created_at": _when(t.created_at),
                "revoked_at": _when(t.revoked_at),
            }
            for t in tokens
        ],
        "mails": [
            {
                "id": str(m.id),
                "template": m.template,
                "to_address": m.to_address,
                "to_name": m.to_name,
                "state": m.state,
                "event_id": str(m.event_id) if m.event_id else None,
                "created_at": _when(m.created_at),
                "sent_at": _when(m.sent_at),
            }
            for m in mails
        ],
    }
