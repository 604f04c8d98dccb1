"""Calendar test data, written straight through the ORM (the flush listener keeps
the cache in step, exactly as it does for the enrollment and event code paths)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from rollcall.models import Attendee, Enrollment, Event, Occurrence, Organisation
from tests.support.stack import Stack

#: Far enough ahead that nothing has started yet (REGISTER needs a future start).
BASE = datetime(2031, 3, 1, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def org_id(session: Session, name: str = "acme") -> uuid.UUID:
    org = session.scalars(select(Organisation).where(Organisation.name == name)).one()
    return org.id


def add_attendee(session: Session, organisation_id: uuid.UUID, ref: str) -> Attendee:
    attendee = Attendee(
        organisation_id=organisation_id,
        ref=ref,
        email=f"{ref}@example.org",
        name=ref.title(),
        created_at=NOW,
        updated_at=NOW,
    )
    session.add(attendee)
    session.flush()
    return attendee


def add_event(
    session: Session,
    organisation_id: uuid.UUID,
    *,
    starts: list[datetime],
    name: str = "Workshop",
    status: str = "published",
    minutes: int = 60,
    **fields: Any,
) -> Event:
    event = Event(
        organisation_id=organisation_id,
        name=name,
        status=status,
        timezone=fields.pop("timezone", "Europe/Amsterdam"),
        enrolled_count=0,
        waitlisted_count=0,
        settings={},
        created_at=NOW,
        updated_at=NOW,
        **fields,
    )
    session.add(event)
    session.flush()
    for start in starts:
        session.add(
            Occurrence(
                event_id=event.id,
                starts_at=start,
                ends_at=start + timedelta(minutes=minutes),
                cancelled=False,
                enrolled_count=0,
                waitlisted_count=0,
            )
        )
    session.flush()
    return event


def add_enrollment(
    session: Session,
    event: Event,
    attendee: Attendee,
    *,
    status: str = "enrolled",
    scope_key: str = "event",
) -> Enrollment:
    enrollment = Enrollment(
        organisation_id=event.organisation_id,
        event_id=event.id,
        attendee_id=attendee.id,
        scope_key=scope_key,
        status=status,
        requested_at=NOW,
        request_seq=0,
        created_at=NOW,
        updated_at=NOW,
    )
    session.add(enrollment)
    session.flush()
    return enrollment


def issue_token(stack: Stack, key: str, ref: str) -> str:
    response = stack.client.post(f"/v1/attendees/{ref}/tokens", headers=stack.auth(key))
    assert response.status_code == 201, response.text
    return str(response.json()["token"])


def calendar(stack: Stack, token: str, **params: Any) -> Any:
    query = {"fromDate": "2030-01-01T00:00:00Z"} | params
    return stack.client.get("/v1/calendar", params=query, headers=stack.auth(token))


def new_date(
    event_id: uuid.UUID, starts: datetime, length: timedelta = timedelta(hours=1)
) -> Occurrence:
    """A date of the event starting at ``starts``, not yet added to a session."""
    return Occurrence(
        event_id=event_id,
        starts_at=starts,
        ends_at=starts + length,
        cancelled=False,
        enrolled_count=0,
        waitlisted_count=0,
    )
