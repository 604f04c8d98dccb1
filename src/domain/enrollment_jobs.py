"""Job handlers for enrollment jobs: payload in, domain call, result out."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from domain.attendees import upsert_attendee
from domain.enrollment import enroll_attendee, waitlist_position
from domain.jobs import handles
from models import Event, Job

ENROLL = "enroll"


@handles(ENROLL)
def apply_enroll(session: Session, job: Job, now: datetime) -> dict[str, Any]:
    payload = job.payload
    event = session.get(Event, uuid.UUID(payload["event_id"]), populate_existing=True)
    assert event is not None
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
        session, event=event, attendee=attendee, now=now, requested_at=job.created_at, job_id=job.id
    )
    return {
        "enrollment_id": str(enrollment.id),
        "event_id": str(event.id),
        "attendee_ref": attendee.ref,
        "status": enrollment.status,
        "waitlist_position": waitlist_position(session, enrollment),
    }
