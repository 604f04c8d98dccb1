"""Jobs that got past the edge with data that cannot succeed: recorded
straight through the domain's submit function, as intake would record them,
then handed to the broker."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from rollcall.domain.clock import utcnow
from rollcall.domain.jobs.engine import submit_job
from rollcall.domain.jobs.outbox import take_pending
from rollcall.messaging.outbox import dispatch
from rollcall.models import Event
from tests.support.stack import Stack


def submit_raw_job(stack: Stack, event_ref: str, type: str, payload: dict[str, Any]) -> str:
    """Record a job of ``type`` for the event with this ref; ``payload`` gets
    the event's id unless it names one. Returns the job id."""
    with stack.db() as session:
        event = session.scalars(select(Event).where(Event.ref == event_ref)).one()
        job, _ = submit_job(
            session,
            organisation_id=event.organisation_id,
            type=type,
            payload={"event_id": str(event.id)} | payload,
            now=utcnow(),
            event_id=event.id,
            progress_total=len(payload.get("rows", [None])),
        )
        job_id, outbox = job.id, take_pending(session)
    dispatch(stack.sessions, stack.broker, outbox, now=utcnow())
    return str(job_id)


def person(ref: str, **fields: Any) -> dict[str, Any]:
    return {
        "ref": ref,
        "email": f"{ref}@example.org",
        "name": ref.title(),
        "timezone": None,
        "locale": None,
    } | fields


def rows(*people: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"row": number, **one} for number, one in enumerate(people, start=1)]
