"""The ``data`` of each event type, built from the rows a change touched.

``data`` names the organisation's own ids and refs: the job with its result
and errors, the event (id and ref), the attendee ref. A job's per-row errors
are cut to the first ``MAX_ERRORS`` (``errors_total`` says how many there are;
``GET /v1/jobs/{id}`` has them all).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Protocol

from rollcall.models import Event, Occurrence

MAX_ERRORS = 100


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment is not None else None


def _str(value: uuid.UUID | None) -> str | None:
    return str(value) if value is not None else None


class JobFields(Protocol):
    @property
    def id(self) -> uuid.UUID: ...
    @property
    def type(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def event_id(self) -> uuid.UUID | None: ...


def job_data(
    job: JobFields,
    *,
    result: dict[str, Any] | None,
    errors: list[dict[str, Any]] | None,
    finished_at: datetime | None,
) -> dict[str, Any]:
    errors = list(errors or [])
    return {
        "job": {
            "id": str(job.id),
            "type": job.type,
            "status": job.status,
            "event_id": _str(job.event_id),
            "result": result,
            "errors": errors[:MAX_ERRORS],
            "errors_total": len(errors),
            "finished_at": _iso(finished_at),
        }
    }


def event_ref(event: Event) -> dict[str, Any]:
    return {"id": str(event.id), "ref": event.ref}


def event_data(event: Event) -> dict[str, Any]:
    return {
        "event": {
            **event_ref(event),
            "name": event.name,
            "type": event.type,
            "status": event.status,
            "cancelled": bool(event.cancelled),
            "starts_at": _iso(event.starts_at),
            "ends_at": _iso(event.ends_at),
        }
    }


def occurrence_data(event: Event, occurrence: Occurrence) -> dict[str, Any]:
    return {
        "event": event_ref(event),
        "occurrence": {
            "id": str(occurrence.id),
            "starts_at": _iso(occurrence.starts_at),
            "ends_at": _iso(occurrence.ends_at),
            "cancelled": bool(occurrence.cancelled),
        },
    }


def enrollment_data(
    *,
    event: Event,
    enrollment_id: uuid.UUID,
    status: str,
    attendee_ref: str,
    occurrence_id: uuid.UUID | None = None,
    session_id: uuid.UUID | None = None,
    waitlist_position: int | None = None,
    job_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    return {
        "event": event_ref(event),
        "attendee": {"ref": attendee_ref},
        "enrollment": {
            "id": str(enrollment_id),
            "status": status,
            "occurrence_id": _str(occurrence_id),
            "session_id": _str(session_id),
            "waitlist_position": waitlist_position,
        },
        "job_id": _str(job_id),
    }


def mail_data(
    *,
    mail_id: uuid.UUID,
    template: str,
    to_address: str,
    error: str | None,
    attempts: int,
    job_id: uuid.UUID | None,
    event: dict[str, Any] | None,
) -> dict[str, Any]:
    return {
        "mail": {
            "id": str(mail_id),
            "template": template,
            "to": to_address,
            "error": (error or "")[:300],
            "attempts": attempts,
            "job_id": _str(job_id),
        },
        "event": event,
    }
