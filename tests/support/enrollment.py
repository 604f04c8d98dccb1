"""Helpers for enrollment-engine tests: shaping events the API of issue 3 will own
(booked per date, occurrences, sessions, lifecycle flags) straight in the database."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from rollcall.domain.clock import utcnow
from rollcall.models import EmailMessage, Enrollment, Event, EventSession, Occurrence
from tests.support.stack import Stack


def set_event(stack: Stack, event_id: str, **fields: Any) -> None:
    with stack.db() as session:
        event = session.get(Event, uuid.UUID(event_id))
        assert event is not None
        for name, value in fields.items():
            setattr(event, name, value)


def add_occurrence(stack: Stack, event_id: str, *, days: int, capacity: int | None) -> str:
    start = datetime(2030, 1, 1, 9, tzinfo=UTC) + timedelta(days=days)
    with stack.db() as session:
        occurrence = Occurrence(
            event_id=uuid.UUID(event_id),
            starts_at=start,
            ends_at=start + timedelta(hours=2),
            cancelled=False,
            capacity=capacity,
            enrolled_count=0,
            waitlisted_count=0,
        )
        session.add(occurrence)
        session.flush()
        return str(occurrence.id)


def add_session(stack: Stack, event_id: str, *, name: str, capacity: int | None) -> str:
    with stack.db() as session:
        part = EventSession(
            event_id=uuid.UUID(event_id),
            name=name,
            capacity=capacity,
            status="active",
            enrolled_count=0,
            waitlisted_count=0,
            created_at=utcnow(),
        )
        session.add(part)
        session.flush()
        return str(part.id)


def statuses(stack: Stack) -> dict[str, str]:
    """{attendee ref: status} of every enrollment (the latest per ref wins)."""
    with stack.db() as session:
        rows = session.scalars(select(Enrollment).order_by(Enrollment.created_at)).all()
        return {row.attendee.ref: row.status for row in rows}


def mail_templates(stack: Stack) -> list[tuple[str, str]]:
    with stack.db() as session:
        return sorted(
            (m.to_address.split("@")[0], m.template)
            for m in session.scalars(select(EmailMessage)).all()
        )


def person(ref: str) -> dict[str, str]:
    return {"ref": ref, "email": f"{ref}@example.org", "name": ref.title()}
