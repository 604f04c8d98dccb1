"""Single enroll jobs, applied in groups, in line: group commit on the event's row.

Every enrollment into an event takes that event's row lock first (the seat
counters and the calendar cache hang off it), so enrollments into one event
run one at a time however many workers there are. Rather than one
transaction per job, the worker holding the lock applies the event's queued
enroll jobs together, set-based (domain.enrollment.bulk.rows.enroll_rows), and commits
them at once. Each job keeps its own result, error codes and mail, and is
applied exactly once. Seats and places go in acceptance order
(``created_at``, the intake's stamp), whatever the workers and the broker do:

- the event is locked first, the jobs after: a worker waiting for the event
  holds no job row, so the lock holder never has to skip an older job;
- the holder claims the event's queued jobs oldest first, the message's own
  among them, locked and waiting for none but a moment (no SKIP LOCKED):
  a job whose message is late, lost or still queued is applied in its turn;
- the claim runs with the event's line closed (domain.enrollment.arrivals): every job
  stamped before it has committed and is seen;
- a group is the oldest jobs up to GROUP_MAX, cut before an attendee's second
  job (the per-attendee rules then see one request at a time); a message
  whose job is younger applies groups until its own is done;
- an unexpected error re-runs the group one job at a time, in order, each
  in a savepoint: one bad job fails only itself, and the rest keep their turn.

A job applied out of its turn (it failed and its message retried it, or it
was requeued from /ops) is placed when it is applied: a seat given is never
taken back, and on the waiting list it takes its place by acceptance order,
ahead of those accepted after it.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import NamedTuple, cast

from sqlalchemy import Table, bindparam, update
from sqlalchemy.orm import Session, sessionmaker

from rollcall.domain.enrollment.group_line import QueuedJob, claim, in_line, probe_own, read_own
from rollcall.domain.enrollment.group_outcomes import Outcome, enroll_jobs, failed_outcome
from rollcall.domain.errors import DomainError
from rollcall.domain.errors.events import EventNotFound
from rollcall.domain.jobs.engine import AfterCommit, log_job, remember_finished
from rollcall.domain.jobs.outbox import PENDING_KEY, WrittenMessage, take_written
from rollcall.domain.webhooks.causes import record_job_end
from rollcall.models import Event, Job
from rollcall.models.jobs import FINAL_JOB_STATUSES

logger = logging.getLogger("rollcall.jobs")


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
) -> list[WrittenMessage]:
    """Apply this enroll job, after the event's queued jobs accepted before it
    and with those after it (up to GROUP_MAX a group); returns the outbox rows
    (as written) still to dispatch (earlier groups' go to ``after_commit`` at their commit).
    Raises what failed this job (it is then ``running``, for a retry)."""
    pending: list[WrittenMessage] = []
    while True:
        try:
            step = _apply_group(factory, job_id, now=now, one_by_one=False)
        except Exception:
            logger.warning("enroll group failed; applying it job by job", exc_info=True)
            try:
                step = _apply_group(factory, job_id, now=now, one_by_one=True)
            except Exception:
                _record_attempt(factory, job_id, now())
                raise
        pending += step.outbox
        if step.crash is not None:
            # The others' effects committed: hand their mails over, then let
            # Dramatiq retry this job.
            if after_commit is not None and pending:
                after_commit(pending)
            raise step.crash
        if step.done:
            return pending
        if after_commit is not None and pending:
            after_commit(pending)
            pending = []


def _record_attempt(factory: sessionmaker[Session], job_id: uuid.UUID, moment: datetime) -> None:
    """A failed attempt shows: the job is ``running`` (Dramatiq retries it)."""
    with factory() as session, session.begin():
        _mark_attempted(session, [job_id], moment)


def _mark_attempted(session: Session, job_ids: Sequence[uuid.UUID], moment: datetime) -> None:
    session.execute(
        update(Job)
        .where(Job.id.in_(job_ids), Job.status.not_in(FINAL_JOB_STATUSES))
        .values(
            status="running",
            attempts=Job.attempts + 1,
            started_at=moment,
        )
    )


class Step(NamedTuple):
    """One group's transaction: its outbox rows (as written), whether the message's own job is
    finished, and the error that failed the own job when applied on its own."""

    outbox: list[WrittenMessage]
    done: bool
    crash: Exception | None = None


def _apply_group(
    factory: sessionmaker[Session],
    job_id: uuid.UUID,
    *,
    now: Callable[[], datetime],
    one_by_one: bool,
) -> Step:
    started = time.monotonic()
    own = probe_own(factory, job_id)
    if own is None or own.status in FINAL_JOB_STATUSES:
        return Step([], True)
    with factory() as session, session.begin() as transaction:
        moment = now()
        applied = _apply_in_line(session, own, moment, one_by_one=one_by_one)
        if applied is None:
            # Nothing was written: roll back, release the lock without
            # waiting for a commit to be flushed.
            transaction.rollback()
            return Step([], True)
        group, outcomes, crashed = applied
        finished = [member for member in group if member.id not in crashed]
        _finish(session, finished, outcomes, moment)
        if crashed:
            _mark_attempted(session, list(crashed), moment)
        outbox = take_written(session)
    remember_finished(member.id for member in finished)
    _log_finished(group, finished, outcomes, crashed, started=started)
    return Step(
        outbox,
        done=any(member.id == job_id for member in finished),
        crash=crashed.get(job_id),
    )


class Applied(NamedTuple):
    """A group applied in its transaction, not yet finished: its jobs, their
    outcomes, and the errors of those that crashed (applied one by one)."""

    group: list[QueuedJob]
    outcomes: dict[uuid.UUID, Outcome]
    crashed: dict[uuid.UUID, Exception]


def _apply_in_line(
    session: Session, probed: QueuedJob, moment: datetime, *, one_by_one: bool
) -> Applied | None:
    """Lock the event, claim its group and apply it; None when the message's
    own job turns out to be done already. An event that cannot be locked
    fails the own job alone."""
    try:
        event = lock_event(session, probed)
    except DomainError as error:
        own = read_own(session, probed.id, lock=True)
        if own is None or own.status in FINAL_JOB_STATUSES:
            return None
        return Applied([own], {own.id: failed_outcome(error)}, {})
    # Read again under the event's lock: the group before may have done it.
    own = read_own(session, probed.id, lock=False)
    if own is None or own.status in FINAL_JOB_STATUSES:
        return None
    group = in_line(claim(session, event, own), str(event.id))
    for member in group:
        log_job("job started", member, attempt=member.attempts + 1, group=len(group))
    if one_by_one:
        outcomes, crashed = _enroll_one_by_one(session, event, group, moment)
        return Applied(group, outcomes, crashed)
    return Applied(group, enroll_jobs(session, event, group, moment), {})


def _log_finished(
    group: Sequence[QueuedJob],
    finished: Sequence[QueuedJob],
    outcomes: dict[uuid.UUID, Outcome],
    crashed: dict[uuid.UUID, Exception],
    *,
    started: float,
) -> None:
    duration_ms = round((time.monotonic() - started) * 1000, 1)
    for member in finished:
        log_job(
            "job finished",
            member,
            attempt=member.attempts + 1,
            outcome=outcomes[member.id][0],
            duration_ms=duration_ms,
            group=len(group),
        )
    for crashed_id, crash in crashed.items():
        logger.warning("enroll job %s failed; its message retries it", crashed_id, exc_info=crash)


def _enroll_one_by_one(
    session: Session, event: Event, group: Sequence[QueuedJob], moment: datetime
) -> tuple[dict[uuid.UUID, Outcome], dict[uuid.UUID, Exception]]:
    """The group in order, each job in its own savepoint: (outcomes, errors of
    the jobs that crashed). A crashed job's writes and mail are rolled back."""
    outcomes: dict[uuid.UUID, Outcome] = {}
    crashed: dict[uuid.UUID, Exception] = {}
    for job in group:
        mails = len(session.info.get(PENDING_KEY, []))
        try:
            with session.begin_nested():
                outcomes.update(enroll_jobs(session, event, [job], moment))
        except Exception as error:
            del session.info.get(PENDING_KEY, [])[mails:]
            crashed[job.id] = error
    return outcomes, crashed


_jobs = cast(Table, Job.__table__)

#: A group's jobs' final states, one executemany by primary key, built once
#: (issue 19: Core, not the ORM's bulk update, 717 -> 477 µs for a group of 2).
_FINISH = (
    update(_jobs)
    .where(_jobs.c.id == bindparam("job_id", type_=_jobs.c.id.type))
    .values(
        status=bindparam("to_status"),
        result=bindparam("to_result"),
        errors=bindparam("to_errors"),
        attempts=bindparam("to_attempts"),
        started_at=bindparam("to_started_at"),
        finished_at=bindparam("to_finished_at"),
        progress_done=1,
    )
)


def _finish(
    session: Session,
    group: Sequence[QueuedJob],
    outcomes: dict[uuid.UUID, Outcome],
    moment: datetime,
) -> None:
    """Every job's final state, in one executemany by primary key."""
    if not group:
        return
    session.execute(
        _FINISH,
        [
            {
                "job_id": job.id,
                "to_status": outcomes[job.id][0],
                "to_result": outcomes[job.id][1],
                "to_errors": outcomes[job.id][2],
                "to_attempts": job.attempts + 1,
                "to_started_at": job.started_at or moment,
                "to_finished_at": moment,
            }
            for job in group
        ],
    )
    for job in group:
        status, result, errors = outcomes[job.id][:3]
        record_job_end(
            session,
            organisation_id=job.organisation_id,
            job=job._replace(status=status),
            result=result,
            errors=errors,
            finished_at=moment,
            now=moment,
        )
