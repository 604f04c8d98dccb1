"""The changes that cause deliveries, one function each; all go through ``record``.

Each is called in the transaction of its change. Features added later (an
enrollment moved, an event changed) call ``record_enrollment`` /
``record_event_change`` with their type.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from rollcall.domain.webhooks import payloads
from rollcall.domain.webhooks.event_types import JOB_TYPE_OF_STATUS
from rollcall.domain.webhooks.record import record_event, record_events, wants
from rollcall.models import Enrollment, Event, Job, Occurrence


def record_job(session: Session, job: Job, *, now: datetime) -> None:
    """The end of a job held as a row (its status just set final)."""
    record_job_end(
        session,
        organisation_id=job.organisation_id,
        job=job,
        result=job.result,
        errors=job.errors,
        finished_at=job.finished_at,
        now=now,
    )


def record_job_end(
    session: Session,
    *,
    organisation_id: uuid.UUID,
    job: payloads.JobFields,
    result: dict[str, Any] | None,
    errors: list[dict[str, Any]] | None,
    finished_at: datetime | None,
    now: datetime,
) -> None:
    """``job.succeeded`` / ``job.partially_succeeded`` / ``job.failed``."""
    event_type = JOB_TYPE_OF_STATUS.get(job.status)
    if event_type is None or not wants(session, organisation_id, event_type):
        return
    record_event(
        session,
        organisation_id=organisation_id,
        event_type=event_type,
        data=payloads.job_data(job, result=result, errors=errors, finished_at=finished_at),
        now=now,
    )


def record_enrollment(
    session: Session,
    *,
    outcome: str,
    event: Event,
    enrollment: Enrollment,
    attendee_ref: str,
    now: datetime,
    job_id: uuid.UUID | None = None,
    waitlist_position: int | None = None,
) -> None:
    """``enrollment.<outcome>``: enrolled, waitlisted, promoted, moved, removed, cancelled."""
    event_type = f"enrollment.{outcome}"
    if not wants(session, event.organisation_id, event_type):
        return
    record_event(
        session,
        organisation_id=event.organisation_id,
        event_type=event_type,
        data=payloads.enrollment_data(
            event=event,
            enrollment_id=enrollment.id,
            status=enrollment.status,
            attendee_ref=attendee_ref,
            occurrence_id=enrollment.occurrence_id,
            session_id=enrollment.session_id,
            waitlist_position=waitlist_position,
            job_id=job_id,
        ),
        now=now,
    )


def record_placements(
    session: Session,
    *,
    event: Event,
    occurrence_id: uuid.UUID | None,
    session_id: uuid.UUID | None,
    placements: Iterable[tuple[uuid.UUID, str, str, int | None, uuid.UUID | None]],
    now: datetime,
) -> None:
    """``enrollment.enrolled`` / ``enrollment.waitlisted`` for enrollments placed
    set-wise (a bulk chunk, a group of enroll jobs): (enrollment id, attendee
    ref, status, waiting-list place, job id) each, in placement order."""
    by_type: dict[str, list[dict[str, Any]]] = {}
    wanted = {
        status: wants(session, event.organisation_id, f"enrollment.{status}")
        for status in ("enrolled", "waitlisted")
    }
    if not any(wanted.values()):
        return
    for enrollment_id, ref, status, position, job_id in placements:
        if not wanted.get(status):
            continue
        by_type.setdefault(f"enrollment.{status}", []).append(
            payloads.enrollment_data(
                event=event,
                enrollment_id=enrollment_id,
                status=status,
                attendee_ref=ref,
                occurrence_id=occurrence_id,
                session_id=session_id,
                waitlist_position=position,
                job_id=job_id,
            )
        )
    for event_type, datas in by_type.items():
        record_events(
            session,
            organisation_id=event.organisation_id,
            event_type=event_type,
            datas=datas,
            now=now,
        )


def record_event_change(session: Session, *, event_type: str, event: Event, now: datetime) -> None:
    """``event.published`` / ``event.changed`` / ``event.cancelled``."""
    if not wants(session, event.organisation_id, event_type):
        return
    record_event(
        session,
        organisation_id=event.organisation_id,
        event_type=event_type,
        data=payloads.event_data(event),
        now=now,
    )


def record_occurrences_cancelled(
    session: Session, *, event: Event, occurrences: Sequence[Occurrence], now: datetime
) -> None:
    """``occurrence.cancelled``, one per occurrence."""
    if not occurrences or not wants(session, event.organisation_id, "occurrence.cancelled"):
        return
    record_events(
        session,
        organisation_id=event.organisation_id,
        event_type="occurrence.cancelled",
        datas=[payloads.occurrence_data(event, occurrence) for occurrence in occurrences],
        now=now,
    )


def record_mail_failed(
    session: Session,
    *,
    organisation_id: uuid.UUID,
    data: dict[str, Any],
    now: datetime,
) -> None:
    """``mail.failed``: a mail was given up on (permanent refusal, or out of attempts)."""
    if wants(session, organisation_id, "mail.failed"):
        record_event(
            session, organisation_id=organisation_id, event_type="mail.failed", data=data, now=now
        )
