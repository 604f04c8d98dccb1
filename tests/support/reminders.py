"""Helpers for reminder tests: seed people enrolled at chosen instants, tick the
scheduler's reminder producer at an injected time."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from rollcall.models import Attendee, EmailMessage, Enrollment, Event, Occurrence, ReminderRun
from tests.support.factories import published_event
from tests.support.stack import Stack


def seed_enrollments(
    session: Session,
    event_id: str,
    people: Iterable[tuple[str, str, str, datetime | None, str]],
) -> None:
    """people: (ref, name, status, enrolled_at, scope_key) with scope_key "event"
    or "occ" (this event's first occurrence)."""
    event = session.get(Event, uuid.UUID(event_id))
    assert event is not None
    occurrence = session.scalars(
        select(Occurrence).where(Occurrence.event_id == event.id).order_by(Occurrence.starts_at)
    ).first()
    attendees: list[dict[str, Any]] = []
    enrollments: list[dict[str, Any]] = []
    for ref, name, status, enrolled_at, scope in people:
        attendee_id = uuid.uuid4()
        stamp = enrolled_at or event.created_at
        attendees.append(
            {
                "id": attendee_id,
                "organisation_id": event.organisation_id,
                "ref": ref,
                "email": f"{ref}@example.org",
                "name": name,
                "created_at": stamp,
                "updated_at": stamp,
            }
        )
        enrollments.append(
            {
                "id": uuid.uuid4(),
                "organisation_id": event.organisation_id,
                "event_id": event.id,
                "occurrence_id": occurrence.id if scope == "occ" and occurrence else None,
                "attendee_id": attendee_id,
                "scope_key": f"occ:{occurrence.id}" if scope == "occ" and occurrence else "event",
                "status": status,
                "requested_at": stamp,
                "request_seq": 0,
                "enrolled_at": enrolled_at if status in ("enrolled", "removed") else None,
                "created_at": stamp,
                "updated_at": stamp,
            }
        )
    for start in range(0, len(attendees), 1000):
        session.execute(insert(Attendee), attendees[start : start + 1000])
        session.execute(insert(Enrollment), enrollments[start : start + 1000])


def runs(session: Session) -> list[ReminderRun]:
    return list(session.scalars(select(ReminderRun).order_by(ReminderRun.created_at)))


def mails(session: Session) -> list[EmailMessage]:
    return list(session.scalars(select(EmailMessage).order_by(EmailMessage.to_address)))


def reminded_event(
    stack: Stack,
    key: str,
    *,
    ref: str,
    starts_at: datetime,
    hours: float,
    before_minutes: int,
    people: Iterable[tuple[str, str]],
    enrolled_at: datetime,
) -> dict[str, Any]:
    """A published event of ``hours`` from ``starts_at`` with a reminder
    ``before_minutes`` before it, and ``people`` (ref, name) enrolled in the
    event as a whole at ``enrolled_at``."""
    event = published_event(
        stack,
        key,
        ref=ref,
        starts_at=starts_at.isoformat(),
        ends_at=(starts_at + timedelta(hours=hours)).isoformat(),
        reminder_before_minutes=before_minutes,
    )
    with stack.db() as session:
        seed_enrollments(
            session,
            event["id"],
            [(ref, name, "enrolled", enrolled_at, "event") for ref, name in people],
        )
    return event
