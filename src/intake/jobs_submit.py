"""Accepting a job: record it with its outbox row, commit, then enqueue.

If the broker is down the caller still gets 202; the scheduler's relay sends
the message later.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from fastapi import Response
from sqlalchemy.orm import Session

from rollcall.config.logs import request_id_var
from rollcall.config.settings import Settings
from rollcall.domain.clock import utcnow
from rollcall.domain.enrollment.queries import current_result
from rollcall.domain.jobs import one_statement
from rollcall.domain.jobs.engine import queued_job, submit_job
from rollcall.domain.jobs.outbox import WrittenMessage, take_written
from rollcall.intake.deps import Credential, creator_of
from rollcall.intake.schemas import JobOut
from rollcall.messaging.broker import get_broker
from rollcall.messaging.outbox import dispatch_written
from rollcall.models import Job
from rollcall.models.db import sessions_of


def record_job(
    session: Session,
    *,
    organisation_id: uuid.UUID,
    type: str,
    payload: dict[str, Any],
    idempotency_key: str | None,
    by: Credential,
    event_id: uuid.UUID | None = None,
    progress_total: int = 0,
    guarded: bool = False,
) -> Job:
    """Record the job and its outbox row within the caller's open transaction
    (the caller commits, then dispatches ``take_written``'s rows); on
    PostgreSQL, in one statement (domain.jobs.one_statement), which on an
    autocommit session is all of its transaction (the enroll route's).

    A job of an event takes its place in the event's line here: the stamp is
    read under the line's turn (domain.enrollment.arrivals), so no job stamped earlier
    commits after a worker claimed the line. ``by``, the credential creating
    the job, is stored on it: it may always read the job at its Location.
    Every way in (REST, GraphQL) records jobs through here.

    ``guarded`` (PostgreSQL only): ``event_id`` was not looked up; it is
    checked in the statement (one_statement.NotAnEventOfTheOrganisation)."""
    job_fields: dict[str, Any] = {
        "organisation_id": organisation_id,
        "type": type,
        "payload": payload,
        "idempotency_key": idempotency_key,
        "event_id": event_id,
        "progress_total": progress_total,
        "request_id": request_id_var.get(),
        **creator_of(by),
    }
    if one_statement.available(session):
        # A job of an event: stamped under its line's turn (None), in the statement.
        stamp = None if event_id is not None else utcnow()
        job, _created = one_statement.submit_job_in_one_statement(
            session, queued_job(**job_fields), stamp=stamp, guarded=guarded
        )
    else:
        if guarded:
            raise ValueError("only PostgreSQL checks a job's event in its statement")
        # SQLite: stamped inside the write transaction (BEGIN IMMEDIATE), no fence.
        job, _created = submit_job(session, now=utcnow(), **job_fields)
    return job


def accept_job(
    session: Session,
    settings: Settings,
    response: Response,
    *,
    organisation_id: uuid.UUID,
    type: str,
    payload: dict[str, Any],
    idempotency_key: str | None,
    by: Credential,
    event_id: uuid.UUID | None = None,
    progress_total: int = 0,
) -> JobOut:
    """``submit_and_enqueue``, answered as REST does: 202, the job at its Location."""
    job = submit_and_enqueue(
        session,
        settings,
        organisation_id=organisation_id,
        type=type,
        payload=payload,
        idempotency_key=idempotency_key,
        by=by,
        event_id=event_id,
        progress_total=progress_total,
    )
    return accepted(session, response, job)


def accepted(session: Session, response: Response, job: Job) -> JobOut:
    """An accepted job as REST answers it: 202, the job at its Location."""
    response.status_code = 202
    response.headers["Location"] = f"/v1/jobs/{job.id}"
    # A repeated request may find its job finished long ago: show it as now.
    return JobOut.of(job, current_result(session, job))


def submit_and_enqueue(
    session: Session,
    settings: Settings,
    *,
    organisation_id: uuid.UUID,
    type: str,
    payload: dict[str, Any],
    idempotency_key: str | None,
    by: Credential,
    event_id: uuid.UUID | None = None,
    progress_total: int = 0,
    guarded: bool = False,
) -> Job:
    """Record the job (``record_job``, within the caller's open transaction),
    commit, enqueue the outbox rows as written (no read back: one round trip
    less per request; a crash before the enqueue leaves them to the relay)."""
    job = record_job(
        session,
        organisation_id=organisation_id,
        type=type,
        payload=payload,
        idempotency_key=idempotency_key,
        by=by,
        event_id=event_id,
        progress_total=progress_total,
        guarded=guarded,
    )
    written = take_written(session)
    session.commit()
    enqueue_committed(settings, written)
    return job


def enqueue_committed(settings: Settings, written: Sequence[WrittenMessage]) -> None:
    """Send the messages of outbox rows a transaction just committed (as
    written: ``take_written``, never read back), the one way every intake edge
    enqueues. With ENQUEUE_ON_COMMIT off, the scheduler's relay alone sends
    them (tests prove it does)."""
    if written and settings.enqueue_on_commit:
        dispatch_written(sessions_of(settings), get_broker(), written, now=utcnow())
