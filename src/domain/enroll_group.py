"""Single enroll jobs, applied in groups: group commit on the event's row.

Every enrollment into an event takes that event's row lock first (the seat
counters and the calendar cache hang off it), so enrollments into one event
run one at a time however many workers there are. Rather than one
transaction per job, the worker holding the lock also applies the event's
other queued enroll jobs, in arrival order and set-based
(domain.bulk_rows.enroll_rows), and commits them together. Each job keeps its
own result, error codes and mail, and is applied exactly once:

- the message's own job is locked first (FOR UPDATE, waiting): a job that a
  group already applied is then seen finished and skipped;
- the other jobs are taken with FOR UPDATE SKIP LOCKED, so a job another
  worker holds is left to it, and nobody waits in a cycle;
- an attendee appears once per group (a second job of theirs waits for its
  own message), so the per-attendee rules see one request at a time;
- an unexpected error re-runs the message's job alone, so one bad job fails
  only itself.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from domain.bulk_rows import enroll_rows
from domain.errors import DomainError, EventNotFound
from domain.jobs import log_job, remember_finished
from domain.outbox import take_pending
from domain.scopes import resolve_scope
from models import Event, Job
from models.jobs import FINAL_JOB_STATUSES

logger = logging.getLogger("rollcall.jobs")

ENROLL = "enroll"
#: Jobs per group: bounds the transaction, and the wait of a job left out.
GROUP_MAX = 500

AfterCommit = Callable[[list[uuid.UUID]], object]


def lock_event(session: Session, job: Job | QueuedJob) -> Event:
    """The job's event, its row locked: the first lock every enrollment takes,
    before any write, so enrollment transactions queue instead of deadlocking."""
    event = session.get(
        Event, uuid.UUID(job.payload["event_id"]), populate_existing=True, with_for_update=True
    )
    if event is None or event.organisation_id != job.organisation_id:
        raise EventNotFound(id=job.payload["event_id"])
    return event


def run_enroll_jobs(
    factory: sessionmaker[Session],
    job_id: uuid.UUID,
    *,
    now: Callable[[], datetime],
    after_commit: AfterCommit | None = None,
) -> list[uuid.UUID]:
    """Apply this enroll job, with the event's other queued ones; returns the
    outbox ids to dispatch after commit."""
    try:
        return _apply_group(factory, job_id, now=now, limit=GROUP_MAX)
    except Exception:
        logger.warning("enroll group failed; applying job %s alone", job_id, exc_info=True)
    try:
        return _apply_group(factory, job_id, now=now, limit=1)
    except Exception:
        _record_attempt(factory, job_id, now())
        raise


def _record_attempt(factory: sessionmaker[Session], job_id: uuid.UUID, moment: datetime) -> None:
    """A failed attempt shows: the job is ``running`` (Dramatiq retries it)."""
    with factory() as session, session.begin():
        session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status.not_in(FINAL_JOB_STATUSES))
            .values(
                status="running",
                attempts=Job.attempts + 1,
                started_at=moment,
            )
        )


class QueuedJob(NamedTuple):
    """The columns of a job a group needs: plain tuples, not ORM objects (a
    group of 500 would spend more on the identity map than on its work)."""

    id: uuid.UUID
    organisation_id: uuid.UUID
    type: str
    status: str
    payload: dict[str, Any]
    created_at: datetime
    request_id: str | None
    attempts: int
    started_at: datetime | None
    event_id: uuid.UUID | None


_COLUMNS = (
    Job.id,
    Job.organisation_id,
    Job.type,
    Job.status,
    Job.payload,
    Job.created_at,
    Job.request_id,
    Job.attempts,
    Job.started_at,
    Job.event_id,
)


def _lock_own(session: Session, job_id: uuid.UUID) -> QueuedJob | None:
    """The message's job, locked (waiting for a group that holds it)."""
    row = session.execute(select(*_COLUMNS).where(Job.id == job_id).with_for_update()).first()
    return QueuedJob(*row) if row is not None else None


def _claim(session: Session, job: QueuedJob, limit: int) -> list[QueuedJob]:
    """Other queued enroll jobs of the same event, oldest first, locked."""
    if limit <= 0 or job.event_id is None:
        return []
    rows = session.execute(
        select(*_COLUMNS)
        .where(
            Job.event_id == job.event_id,
            Job.organisation_id == job.organisation_id,
            Job.type == ENROLL,
            Job.status == "queued",
            Job.id != job.id,
        )
        .order_by(Job.created_at, Job.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return [QueuedJob(*row) for row in rows]


def _one_per_attendee(jobs: Sequence[QueuedJob], event_id: str) -> list[QueuedJob]:
    group: list[QueuedJob] = []
    seen: set[str] = set()
    for job in sorted(jobs, key=lambda j: (j.created_at, j.id)):
        ref = job.payload["attendee"]["ref"]
        if ref in seen or job.payload.get("event_id") != event_id:
            continue
        seen.add(ref)
        group.append(job)
    return group


def _apply_group(
    factory: sessionmaker[Session],
    job_id: uuid.UUID,
    *,
    now: Callable[[], datetime],
    limit: int,
) -> list[uuid.UUID]:
    started = time.monotonic()
    with factory() as session, session.begin():
        job = _lock_own(session, job_id)
        if job is None or job.status in FINAL_JOB_STATUSES:
            return []
        moment = now()
        try:
            event = lock_event(session, job)
        except DomainError as error:
            group = [job]
            outcomes: dict[uuid.UUID, Outcome] = {job.id: _failed(error)}
        else:
            claimed = [job, *_claim(session, job, limit - 1)]
            group = _one_per_attendee(claimed, str(event.id))
            for member in group:
                log_job("job started", member, attempt=member.attempts + 1, group=len(group))
            outcomes = enroll_jobs(session, event, group, moment)
        _finish(session, group, outcomes, moment)
        outbox = take_pending(session)
    remember_finished(member.id for member in group)
    duration_ms = round((time.monotonic() - started) * 1000, 1)
    for member in group:
        log_job(
            "job finished",
            member,
            attempt=member.attempts + 1,
            outcome=outcomes[member.id][0],
            duration_ms=duration_ms,
            group=len(group),
        )
    return outbox


#: (status, result, errors) of one job.
Outcome = tuple[str, dict[str, Any] | None, list[dict[str, Any]]]


def _failed(error: DomainError) -> Outcome:
    return "failed", None, error.job_errors()


def _finish(
    session: Session,
    group: Sequence[QueuedJob],
    outcomes: dict[uuid.UUID, Outcome],
    moment: datetime,
) -> None:
    """Every job's final state, in one executemany by primary key."""
    session.execute(
        update(Job),
        [
            {
                "id": job.id,
                "status": outcomes[job.id][0],
                "result": outcomes[job.id][1],
                "errors": outcomes[job.id][2],
                "attempts": job.attempts + 1,
                "started_at": job.started_at or moment,
                "finished_at": moment,
                "progress_done": 1,
            }
            for job in group
        ],
    )


def enroll_jobs(
    session: Session, event: Event, jobs: Sequence[QueuedJob], moment: datetime
) -> dict[uuid.UUID, Outcome]:
    """Apply enroll jobs of one event (one attendee each, arrival order) in
    the caller's transaction; the outcome of each."""
    outcomes: dict[uuid.UUID, Outcome] = {}
    by_scope: dict[tuple[str | None, str | None], list[QueuedJob]] = {}
    for job in jobs:
        key = (job.payload.get("occurrence_id"), job.payload.get("session_id"))
        by_scope.setdefault(key, []).append(job)
    for (occurrence_id, session_id), members in by_scope.items():
        try:
            scope = resolve_scope(
                session, event=event, occurrence_id=occurrence_id, session_id=session_id
            )
        except DomainError as error:
            outcomes.update({job.id: _failed(error) for job in members})
            continue
        rows = [_row(number, job) for number, job in enumerate(members, start=1)]
        outcome = enroll_rows(
            session,
            event=event,
            scope=scope,
            rows=rows,
            failed={},
            now=moment,
            requested_at=moment,
            job_id=members[0].id,
        )
        for number, job in enumerate(members, start=1):
            placed = outcome.placed.get(number)
            if placed is None:
                outcomes[job.id] = _failed(outcome.refused[number])
                continue
            outcomes[job.id] = (
                "succeeded",
                {
                    "enrollment_id": str(placed.enrollment_id),
                    "event_id": str(event.id),
                    "scope": scope.key,
                    "attendee_ref": placed.attendee_ref,
                    "status": placed.status,
                    "waitlist_position": placed.waitlist_position,
                },
                [],
            )
    return outcomes


def _row(number: int, job: QueuedJob) -> dict[str, Any]:
    person = job.payload["attendee"]
    return {
        "row": number,
        "ref": person["ref"],
        "email": person["email"],
        "name": person.get("name") or "",
        "timezone": person.get("timezone"),
        "locale": person.get("locale"),
        "job_id": job.id,
        "requested_at": job.created_at,
        "request_seq": 0,
    }
