"""The ``reminder`` job: an ad-hoc reminder for one occurrence, now."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from rollcall.domain.jobs.engine import handles
from rollcall.domain.reminders.runs import pick_occurrence, request_adhoc_reminder
from rollcall.models import Event, Job

REMINDER = "reminder"


@handles(REMINDER)
def apply_reminder(session: Session, job: Job, now: datetime) -> dict[str, Any]:
    payload = job.payload
    event = session.get(Event, uuid.UUID(payload["event_id"]), populate_existing=True)
    assert event is not None
    occurrence = pick_occurrence(
        session, event=event, occurrence_id=payload.get("occurrence_id"), now=now
    )
    run = request_adhoc_reminder(
        session, event=event, occurrence=occurrence, now=now, job_id=job.id
    )
    return {"run_id": str(run.id), "occurrence_id": str(occurrence.id), "event_id": str(event.id)}
