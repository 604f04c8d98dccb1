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

import itertools
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from rollcall.domain.access.scopes import resolve_scope
from rollcall.domain.enrollment.arrivals import closed_line
from rollcall.domain.enrollment.bulk.rows import enroll_rows
from rollcall.domain.errors import DomainError
from rollcall.domain.errors.events import EventNotFound
from rollcall.domain.jobs.engine import log_job, remember_finished
from rollcall.domain.jobs.outbox import PENDING_KEY, take_pending
from rollcall.models import Event, Job
from rollcall.models.jobs import FINAL_JOB_STATUSES
from rollcall.models.sql_lists import among

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
    """Apply this enroll job, after the event's queued jobs accepted before it
    and with those after it (up to GROUP_MAX a group); returns the outbox ids
    still to dispatch (earlier groups' go to ``after_commit`` at their commit).
    Raises what failed this job (it is then ``running``, for a retry)."""
    pending: list[uuid.UUID] = []
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


def _read_own(session: Session, job_id: uuid.UUID, *, lock: bool) -> QueuedJob | None:
    query = select(*_COLUMNS).where(Job.id == job_id)
    row = session.execute(query.with_for_update() if lock else query).first()
    return QueuedJob(*row) if row is not None else None


def _probe_own(factory: sessionmaker[Session], job_id: uuid.UUID) -> QueuedJob | None:
    """The message's job, read once no group holds it: a share lock, taken and
    dropped in a transaction of its own (it must not be held while waiting
    for the event). A worker whose job a group is applying thus waits on that
    job's row and finds it done, instead of queueing for the event behind the
    group just to learn that. Rolled back, not committed: a transaction that
    only locked a row has nothing to make durable (no commit to flush)."""
    with factory() as session, session.begin() as transaction:
        row = session.execute(
            select(*_COLUMNS).where(Job.id == job_id).with_for_update(read=True)
        ).first()
        transaction.rollback()
        return QueuedJob(*row) if row is not None else None


def _claim(session: Session, event: Event, own: QueuedJob) -> list[QueuedJob]:
    """The event's queued enroll jobs and the message's own, oldest first (the
    first GROUP_MAX), locked.

    Which jobs: read with the line closed (domain.enrollment.arrivals), so that every job
    stamped before has committed and is seen; a plain indexed read, so intake
    waits for no row lock. Then their rows are locked, without SKIP LOCKED:
    nobody holds an enroll job's row while waiting for the event (the event
    is every worker's first lock), so a row held elsewhere is held for a
    moment only, and skipping it would give its seat away."""
    with closed_line(session, event_id=event.id):
        ids = session.scalars(
            select(Job.id)
            .where(
                Job.status.not_in(FINAL_JOB_STATUSES),
                or_(
                    Job.id == own.id,
                    and_(
                        Job.event_id == event.id,
                        Job.organisation_id == event.organisation_id,
                        Job.type == ENROLL,
                        Job.status == "queued",
                    ),
                ),
            )
            .order_by(Job.created_at, Job.id)
            .limit(GROUP_MAX)
        ).all()
    dialect = session.get_bind().dialect.name
    rows = session.execute(
        select(*_COLUMNS)
        .where(among(dialect, Job.id, ids), Job.status.not_in(FINAL_JOB_STATUSES))
        .order_by(Job.created_at, Job.id)
        .with_for_update()
    )
    return [QueuedJob(*row) for row in rows]


def _in_line(claimed: Sequence[QueuedJob], event_id: str) -> list[QueuedJob]:
    """The longest run of ``claimed`` (oldest first) with one job per attendee:
    an attendee's second job waits for the next group, and so does everyone
    after it, so nobody overtakes it. A job whose payload names another event
    (never written by intake) is left to its own message."""
    group: list[QueuedJob] = []
    seen: set[str] = set()
    for job in claimed:
        if job.payload.get("event_id") != event_id:
            continue
        ref = job.payload["attendee"]["ref"]
        if ref in seen:
            break
        seen.add(ref)
        group.append(job)
    return group


class Step(NamedTuple):
    """One group's transaction: its outbox ids, whether the message's own job is
    finished, and the error that failed the own job when applied on its own."""

    outbox: list[uuid.UUID]
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
    crashed: dict[uuid.UUID, Exception] = {}
    own = _probe_own(factory, job_id)
    if own is None or own.status in FINAL_JOB_STATUSES:
        return Step([], True)
    with factory() as session, session.begin() as transaction:
        moment = now()
        try:
            event = lock_event(session, own)
        except DomainError as error:
            own = _read_own(session, job_id, lock=True)
            if own is None or own.status in FINAL_JOB_STATUSES:
                transaction.rollback()
                return Step([], True)
            group = [own]
            outcomes: dict[uuid.UUID, Outcome] = {own.id: _failed(error)}
        else:
            # Read again under the event's lock: the group before may have
            # done it. Then nothing was written: roll back, release the lock
            # without waiting for a commit to be flushed.
            own = _read_own(session, job_id, lock=False)
            if own is None or own.status in FINAL_JOB_STATUSES:
                transaction.rollback()
                return Step([], True)
            group = _in_line(_claim(session, event, own), str(event.id))
            for member in group:
                log_job("job started", member, attempt=member.attempts + 1, group=len(group))
            if one_by_one:
                outcomes, crashed = _enroll_one_by_one(session, event, group, moment)
            else:
                outcomes = enroll_jobs(session, event, group, moment)
        finished = [member for member in group if member.id not in crashed]
        _finish(session, finished, outcomes, moment)
        if crashed:
            _mark_attempted(session, list(crashed), moment)
        outbox = take_pending(session)
    remember_finished(member.id for member in finished)
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
    return Step(
        outbox,
        done=any(member.id == job_id for member in finished),
        crash=crashed.get(job_id),
    )


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
    if not group:
        return
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


def _scope_of(job: QueuedJob) -> tuple[str | None, str | None]:
    return job.payload.get("occurrence_id"), job.payload.get("session_id")


def enroll_jobs(
    session: Session, event: Event, jobs: Sequence[QueuedJob], moment: datetime
) -> dict[uuid.UUID, Outcome]:
    """Apply enroll jobs of one event (one attendee each, in acceptance order)
    in the caller's transaction; the outcome of each.

    Consecutive jobs of one scope are applied set-wise; the runs follow each
    other in order, since scopes can share seats (a session seat is also an
    event seat) and a later request must not take one first."""
    outcomes: dict[uuid.UUID, Outcome] = {}
    for (occurrence_id, session_id), run in itertools.groupby(jobs, key=_scope_of):
        members = list(run)
        try:
            scope = resolve_scope(
                session, event=event, occurrence_id=occurrence_id, session_id=session_id
            )
        except DomainError as error:
            outcomes.update({job.id: _failed(error) for job in members})
            continue
        rows = [_row(number, job, seq) for number, (job, seq) in enumerate(_seqs(members), 1)]
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


def _seqs(members: Sequence[QueuedJob]) -> list[tuple[QueuedJob, int]]:
    """Each job with its ``request_seq``: jobs stamped in the same microsecond
    keep on the waiting list the order they were seated in (created_at, id)."""
    paired: list[tuple[QueuedJob, int]] = []
    for _stamp, same in itertools.groupby(members, key=lambda job: job.created_at):
        paired.extend((job, seq) for seq, job in enumerate(same))
    return paired


def _row(number: int, job: QueuedJob, seq: int) -> dict[str, Any]:
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
        "request_seq": seq,
    }
