"""Running a bulk enrollment job: up to 10,000 attendees, in chunks of rows
applied set-wise by domain.enrollment.bulk.rows.

* ``atomic``: one transaction for every chunk; any failing row raises
  BulkRowsFailed and everything rolls back, mails included (each chunk's mail
  message is an outbox row in the same transaction). Progress is written from a second connection on
  PostgreSQL; SQLite serialises writers, so there it shows at the end only.
* not atomic: one transaction per chunk that also records the chunk's
  outcome on the job (progress, counts, row errors) under the job row's lock.
  A worker that dies mid-way leaves the committed chunks recorded; the
  redelivered message resumes at ``progress_done``: exactly once per row.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session, defer, sessionmaker

from rollcall.domain.access.scopes import Scope, resolve_scope
from rollcall.domain.enrollment.admission import (
    booking_span,
    enrollment_refusal,
    status_refusal,
)
from rollcall.domain.enrollment.bulk.rows import ChunkOutcome, enroll_rows, mark_duplicates
from rollcall.domain.errors import DomainError, RollcallError
from rollcall.domain.errors.enrollment import BulkRowsFailed
from rollcall.domain.errors.events import EventNotFound
from rollcall.domain.events.content import content_of
from rollcall.domain.jobs.engine import AfterCommit
from rollcall.domain.jobs.failure_policy import failure_decision, job_data_error
from rollcall.domain.jobs.outbox import WrittenMessage, take_written
from rollcall.domain.webhooks.causes import record_job
from rollcall.models import Event, Job
from rollcall.models.jobs import FINAL_JOB_STATUSES

BULK_ENROLL = "bulk_enroll"
MAX_ROWS = 10_000
CHUNK_ROWS = 1_000


def _load(session: Session, payload: dict[str, Any], now: datetime) -> tuple[Event, Scope]:
    """The event and scope, or the one error that refuses every row."""
    # The event row first (see domain.enrollment.group.lock_event): one lock order.
    event = session.get(
        Event, uuid.UUID(payload["event_id"]), populate_existing=True, with_for_update=True
    )
    if event is None:
        raise EventNotFound(id=payload["event_id"])
    refusal = status_refusal(cancelled=event.cancelled, status=event.status)
    if refusal is not None:
        raise refusal
    scope = resolve_scope(
        session,
        event=event,
        occurrence_id=payload.get("occurrence_id"),
        session_id=payload.get("session_id"),
    )
    # Every chunk is checked again (enroll_rows): a window that closes, or a
    # date that ends, between two chunks refuses the rest.
    refusal = enrollment_refusal(
        event, span=booking_span(session, event=event, scope=scope), now=now
    )
    if refusal is not None:
        raise refusal
    return event, scope


def _pre_failed(payload: dict[str, Any]) -> dict[int, dict[str, Any]]:
    failed = {error["row"]: error for error in payload.get("invalid", [])}
    failed.update(mark_duplicates(payload["rows"]))
    return failed


def _all_rows(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """Valid and invalid rows in row order (invalid ones carry no attendee)."""
    rows = list(payload["rows"]) + [
        {"row": error["row"], "ref": error.get("attendee_ref")}
        for error in payload.get("invalid", [])
    ]
    return sorted(rows, key=lambda row: int(row["row"]))


def _final_status(done_ok: int, errors: int) -> str:
    if errors == 0:
        return "succeeded"
    return "partially_succeeded" if done_ok else "failed"


def _advisory_lock(session: Session, job_id: uuid.UUID) -> None:
    """PostgreSQL: one applier per job (SQLite's BEGIN IMMEDIATE already is)."""
    if session.get_bind().dialect.name == "postgresql":
        key = int.from_bytes(job_id.bytes[:8], "big", signed=True)
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def _report_progress(factory: sessionmaker[Session], job_id: uuid.UUID, done: int) -> None:
    with factory() as session, session.begin():
        if session.get_bind().dialect.name != "postgresql":
            return
        session.execute(
            update(Job).where(Job.id == job_id, Job.status == "running").values(progress_done=done)
        )


def _job(session: Session, job_id: uuid.UUID, *, lock: bool = False) -> Job | None:
    """The job row without its payload (10,000 rows of JSON: read it once)."""
    return session.get(
        Job, job_id, with_for_update=lock, populate_existing=True, options=[defer(Job.payload)]
    )


def run_atomic(
    factory: sessionmaker[Session],
    job_id: uuid.UUID,
    *,
    now: Callable[[], datetime],
    payload: dict[str, Any],
) -> list[WrittenMessage]:
    """All rows or none; returns the outbox rows (as written) to dispatch after commit."""
    try:
        with factory() as session, session.begin():
            _advisory_lock(session, job_id)
            job = _job(session, job_id)
            if job is None or job.status in FINAL_JOB_STATUSES:
                return []
            event, scope = _load(session, payload, now())
            rows = _all_rows(payload)
            failed = _pre_failed(payload)
            outcome = _enroll_in_chunks(
                factory, session, job, event=event, scope=scope, rows=rows, failed=failed, now=now()
            )
            if outcome.errors:
                raise BulkRowsFailed(outcome.errors)
            job.status = "succeeded"
            job.progress_done = len(rows)
            job.result = {
                "event_id": str(event.id),
                "atomic": True,
                "enrolled": outcome.enrolled,
                "waitlisted": outcome.waitlisted,
                "failed": 0,
                "content": content_of(event),
            }
            job.errors = []
            job.finished_at = now()
            record_job(session, job, now=job.finished_at)
            return take_written(session)
    except Exception as exc:
        return _fail_atomic(factory, job_id, _refusal(exc), now=now)


def _enroll_in_chunks(
    factory: sessionmaker[Session],
    session: Session,
    job: Job,
    *,
    event: Event,
    scope: Scope,
    rows: list[dict[str, Any]],
    failed: dict[int, dict[str, Any]],
    now: datetime,
) -> ChunkOutcome:
    """Every row, CHUNK_ROWS at a time, in the one transaction; the counts and
    row errors summed. Progress is reported between chunks (its own session)."""
    outcome = ChunkOutcome()
    for start in range(0, len(rows), CHUNK_ROWS):
        chunk = enroll_rows(
            session,
            event=event,
            scope=scope,
            rows=rows[start : start + CHUNK_ROWS],
            failed=failed,
            now=now,
            requested_at=job.created_at,
            job_id=job.id,
        )
        outcome.enrolled += chunk.enrolled
        outcome.waitlisted += chunk.waitlisted
        outcome.errors.extend(chunk.errors)
        if start + CHUNK_ROWS < len(rows):
            _report_progress(factory, job.id, start + CHUNK_ROWS)
    return outcome


def _fail_atomic(
    factory: sessionmaker[Session],
    job_id: uuid.UUID,
    error: RollcallError,
    *,
    now: Callable[[], datetime],
) -> list[WrittenMessage]:
    """The atomic job failed as a whole (nothing of it was applied); returns
    the outbox rows to dispatch (its webhook)."""
    with factory() as session, session.begin():
        job = _job(session, job_id, lock=True)
        if job is None or job.status in FINAL_JOB_STATUSES:
            return []
        job.status = "failed"
        job.result = {"atomic": True, "enrolled": 0, "waitlisted": 0}
        job.errors = error.job_errors()
        job.progress_done = 0
        job.finished_at = now()
        record_job(session, job, now=job.finished_at)
        return take_written(session)


def _refusal(exc: Exception) -> RollcallError:
    """The error that ends the job for ``exc``; re-raises one worth a retry."""
    if isinstance(exc, DomainError):
        return exc
    if failure_decision(exc) == "retry":
        raise exc
    return job_data_error(exc)


def _end_early(session: Session, job: Job, error: RollcallError, moment: datetime) -> None:
    """What is committed stays; the rest of the rows is refused with ``error``."""
    result = job.result or {}
    applied = result.get("enrolled", 0) + result.get("waitlisted", 0)
    job.status = "partially_succeeded" if applied else "failed"
    job.errors = [*job.errors, *error.job_errors()]
    job.finished_at = moment
    record_job(session, job, now=moment)


def run_chunk(
    factory: sessionmaker[Session],
    job_id: uuid.UUID,
    *,
    now: Callable[[], datetime],
    payload: dict[str, Any],
) -> tuple[bool, list[WrittenMessage]]:
    """Apply the next chunk of a non-atomic job and record it on the job, in
    one transaction. Returns (finished, outbox rows to dispatch)."""
    with factory() as session, session.begin():
        job = _job(session, job_id, lock=True)
        if job is None or job.status in FINAL_JOB_STATUSES:
            return True, []
        rows = _all_rows(payload)
        start = job.progress_done
        result = dict(job.result or {"enrolled": 0, "waitlisted": 0, "failed": 0})
        if start < len(rows):
            try:
                event, scope = _load(session, payload, now())
            except DomainError as error:
                # E.g. the event was cancelled between two chunks.
                _end_early(session, job, error, now())
                return True, take_written(session)
            chunk = enroll_rows(
                session,
                event=event,
                scope=scope,
                rows=rows[start : start + CHUNK_ROWS],
                failed=_pre_failed(payload),
                now=now(),
                requested_at=job.created_at,
                job_id=job.id,
            )
            result["event_id"] = str(event.id)
            result["atomic"] = False
            result["content"] = content_of(event)
            result["enrolled"] += chunk.enrolled
            result["waitlisted"] += chunk.waitlisted
            result["failed"] += len(chunk.errors)
            job.errors = [*job.errors, *chunk.errors]
            job.progress_done = min(start + CHUNK_ROWS, len(rows))
            job.result = result
        finished = job.progress_done >= len(rows)
        if finished:
            job.status = _final_status(result["enrolled"] + result["waitlisted"], result["failed"])
            job.finished_at = now()
            record_job(session, job, now=job.finished_at)
        return finished, take_written(session)


def run_bulk_enroll(
    factory: sessionmaker[Session],
    job_id: uuid.UUID,
    *,
    now: Callable[[], datetime],
    after_commit: AfterCommit | None = None,
) -> list[WrittenMessage]:
    """Apply a bulk enrollment job; returns the outbox rows not yet handed to
    ``after_commit`` (which, when given, receives each chunk's at once)."""
    with factory() as session:
        payload = session.scalar(select(Job.payload).where(Job.id == job_id))
    if payload is None:
        return []
    if payload.get("atomic", True):
        return run_atomic(factory, job_id, now=now, payload=payload)
    pending: list[WrittenMessage] = []
    while True:
        try:
            finished, written = run_chunk(factory, job_id, now=now, payload=payload)
        except Exception as exc:
            # A chunk the database refuses (bad data) would be refused again:
            # the job ends now, its committed chunks kept.
            error = _refusal(exc)
            with factory() as session, session.begin():
                job = _job(session, job_id, lock=True)
                if job is not None and job.status not in FINAL_JOB_STATUSES:
                    _end_early(session, job, error, now())
                pending.extend(take_written(session))
            return pending
        if after_commit is not None:
            after_commit(written)
        else:
            pending.extend(written)
        if finished:
            return pending
