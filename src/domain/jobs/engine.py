"""Jobs: accepted by intake with an outbox row, applied exactly once by a worker.

Dramatiq delivers at least once. ``apply_job`` makes that exactly once: the
effect runs in one transaction that first locks the job row and skips a job
already finished, and that writes the job's final state with the effect.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, defer, sessionmaker

from rollcall.config.logs import request_id_var
from rollcall.domain.errors import DomainError, IdempotencyKeyReused, RollcallError
from rollcall.domain.errors.access import InsufficientScope
from rollcall.domain.errors.ops import JobDataError, JobNotFound
from rollcall.domain.jobs import actor_names
from rollcall.domain.jobs.failure_policy import failure_decision, job_data_error
from rollcall.domain.jobs.outbox import WrittenMessage, add_message, take_written
from rollcall.domain.webhooks.causes import record_job
from rollcall.models import Job
from rollcall.models.base import new_id
from rollcall.models.db import single_statement
from rollcall.models.jobs import FINAL_JOB_STATUSES

logger = logging.getLogger("rollcall.jobs")

#: A handler applies one job type inside the effect transaction and returns the
#: job's result. It may raise DomainError (the job fails with that code) or
#: return {"job_status": "partially_succeeded", ...} with per-row errors.
Handler = Callable[[Session, Job, datetime], dict[str, Any]]
HANDLERS: dict[str, Handler] = {}

#: A runner applies a job that needs more than one transaction (e.g. bulk
#: enrollment in chunks); it owns exactly-once itself. ``after_commit`` takes
#: the outbox rows (as written, domain.jobs.outbox.take_written) to dispatch as
#: soon as their transaction committed; the runner returns those it did not
#: hand over.
Runner = Callable[..., list[WrittenMessage]]
#: What a runner hands each committed transaction's outbox rows to.
AfterCommit = Callable[[list[WrittenMessage]], object]
RUNNERS: dict[str, Runner] = {}

#: A group runner applies a job without the claim transaction, possibly with
#: other queued jobs (domain.enrollment.group); it owns exactly-once and logging.
GROUP_RUNNERS: dict[str, Runner] = {}

#: Jobs this process saw committed as finished by a group runner: their own
#: messages need no query. Bounded; only an optimisation (the row decides).
_FINISHED_HERE: OrderedDict[uuid.UUID, None] = OrderedDict()
_FINISHED_HERE_MAX = 100_000
_finished_lock = threading.Lock()


#: The jobs committed as finished during the current ``apply_job`` call: what
#: its ``on_finished`` is told (a group runner finishes others' jobs too).
_finished_now: contextvars.ContextVar[list[uuid.UUID] | None] = contextvars.ContextVar(
    "rollcall_finished_now", default=None
)


def remember_finished(job_ids: Iterable[uuid.UUID]) -> None:
    """Called after the commit that finished these jobs."""
    sink = _finished_now.get()
    with _finished_lock:
        for job_id in job_ids:
            _FINISHED_HERE[job_id] = None
            if sink is not None:
                sink.append(job_id)
        while len(_FINISHED_HERE) > _FINISHED_HERE_MAX:
            _FINISHED_HERE.popitem(last=False)


def _finished_here(job_id: uuid.UUID) -> bool:
    """True (once: a message is normally delivered once) if a group runner in
    this process finished the job."""
    with _finished_lock:
        if job_id not in _FINISHED_HERE:
            return False
        del _FINISHED_HERE[job_id]
        return True


def groups(job_type: str) -> Callable[[Runner], Runner]:
    def register(runner: Runner) -> Runner:
        GROUP_RUNNERS[job_type] = runner
        return runner

    return register


def runs(job_type: str) -> Callable[[Runner], Runner]:
    def register(runner: Runner) -> Runner:
        RUNNERS[job_type] = runner
        return runner

    return register


def handles(job_type: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        HANDLERS[job_type] = handler
        return handler

    return register


def queued_job(
    *,
    organisation_id: uuid.UUID,
    type: str,
    payload: dict[str, Any],
    idempotency_key: str | None = None,
    event_id: uuid.UUID | None = None,
    progress_total: int = 0,
    request_id: str | None = None,
    created_by_key_id: uuid.UUID | None = None,
    created_by_token_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    """Every column of a job as it is accepted, but ``created_at`` (its stamp):
    the one definition both ways of recording it write (``submit_job``, the
    ORM's; domain.jobs.one_statement's single INSERT on PostgreSQL)."""
    return {
        "id": new_id(),
        "organisation_id": organisation_id,
        "type": type,
        "status": "queued",
        "payload": payload,
        "idempotency_key": idempotency_key,
        "event_id": event_id,
        "progress_done": 0,
        "progress_total": progress_total,
        "result": None,
        "errors": [],
        "attempts": 0,
        "request_id": request_id,
        "created_by_key_id": created_by_key_id,
        "created_by_token_id": created_by_token_id,
        "started_at": None,
        "finished_at": None,
    }


def submit_job(
    session: Session,
    *,
    organisation_id: uuid.UUID,
    type: str,
    payload: dict[str, Any],
    now: datetime,
    idempotency_key: str | None = None,
    event_id: uuid.UUID | None = None,
    progress_total: int = 0,
    request_id: str | None = None,
    created_by_key_id: uuid.UUID | None = None,
    created_by_token_id: uuid.UUID | None = None,
) -> tuple[Job, bool]:
    """Record a job and its outbox message; returns (job, created).

    With an Idempotency-Key already used by this organisation for the same
    request, the first job is returned and nothing is recorded (another
    request: IdempotencyKeyReused). The creating credential (an API key or an
    end-user token) is kept: it may always read the job (``read_job``).
    """
    if idempotency_key is not None:
        existing = job_by_key(session, organisation_id, idempotency_key)
        if existing is not None:
            return same_request(existing, type, payload), False
    job = Job(
        **queued_job(
            organisation_id=organisation_id,
            type=type,
            payload=payload,
            idempotency_key=idempotency_key,
            event_id=event_id,
            progress_total=progress_total,
            request_id=request_id,
            created_by_key_id=created_by_key_id,
            created_by_token_id=created_by_token_id,
        ),
        created_at=now,
    )
    if idempotency_key is None:
        # Nothing unique to race for (the id is new): no savepoint, two round
        # trips less per job.
        session.add(job)
        session.flush()
        add_message(session, actor=actor_names.PROCESS_JOB, args=[str(job.id)], now=now)
        return job, True
    try:
        with session.begin_nested():
            session.add(job)
            session.flush()
    except IntegrityError:
        # A concurrent request with the same key won the race.
        existing = job_by_key(session, organisation_id, idempotency_key or "")
        if existing is None:
            raise
        return same_request(existing, type, payload), False
    add_message(session, actor=actor_names.PROCESS_JOB, args=[str(job.id)], now=now)
    return job, True


def job_by_key(session: Session, organisation_id: uuid.UUID, key: str) -> Job | None:
    """The organisation's job recorded with this Idempotency-Key."""
    return session.scalar(
        select(Job).where(Job.organisation_id == organisation_id, Job.idempotency_key == key)
    )


def same_request(job: Job, type: str, payload: dict[str, Any]) -> Job:
    """The job a repeated Idempotency-Key names, if the request is the same;
    else IdempotencyKeyReused."""
    if job.type != type or job.payload != payload:
        raise IdempotencyKeyReused(job_id=str(job.id))
    return job


def get_job(session: Session, *, organisation_id: uuid.UUID, job_id: str) -> Job:
    try:
        key = uuid.UUID(job_id)
    except ValueError:
        raise JobNotFound(id=job_id) from None
    job = session.get(Job, key)
    if job is None or job.organisation_id != organisation_id:
        raise JobNotFound(id=job_id)
    return job


#: The scope that reads every job of the organisation.
READ_JOBS = "jobs:read"


def read_job(
    session: Session,
    *,
    organisation_id: uuid.UUID,
    job_id: str,
    scopes: Iterable[str] = (),
    key_id: uuid.UUID | None = None,
    token_id: uuid.UUID | None = None,
) -> Job:
    """The job, if this credential may read it: any job of its organisation
    with ``jobs:read`` (JobNotFound if there is none), and always the jobs it
    created (the key id or end-user token id stored on the job). Without
    ``jobs:read``, any other id, one that exists or not, is InsufficientScope:
    such a credential learns nothing of the jobs it did not create."""
    if READ_JOBS in set(scopes):
        return get_job(session, organisation_id=organisation_id, job_id=job_id)
    try:
        job = get_job(session, organisation_id=organisation_id, job_id=job_id)
    except JobNotFound:
        raise InsufficientScope(required=[READ_JOBS]) from None
    if key_id is not None and job.created_by_key_id == key_id:
        return job
    if token_id is not None and job.created_by_token_id == token_id:
        return job
    raise InsufficientScope(required=[READ_JOBS])


def apply_job(
    factory: sessionmaker[Session],
    job_id: uuid.UUID,
    *,
    now: Callable[[], datetime],
    after_commit: AfterCommit | None = None,
    on_finished: Callable[[list[uuid.UUID]], object] | None = None,
) -> list[WrittenMessage]:
    """Apply a job exactly once; returns the outbox rows its effect wrote and
    committed, as written (for messaging.outbox.dispatch_written).

    ``on_finished`` is called, after their commits, with the ids of the jobs
    this call may have finished (this one, and those a group runner finished
    with it); a hint for waiters, who read the rows themselves.

    A job already finished is skipped (returns []). DomainError fails the job
    with its code. Any other exception rolls back; then domain.jobs.failure_policy
    decides: an error that cannot succeed on retry (bad data, an integrity
    error, a programming error on odd input) fails the job at once with
    JOB_DATA_ERROR, and the message is acknowledged; a transient one
    propagates, so the caller's retry policy retries (the job stays ``running``).
    """
    if _finished_here(job_id):
        return []
    if on_finished is None:
        return _apply_job(factory, job_id, now=now, after_commit=after_commit)
    finished: list[uuid.UUID] = []
    reset = _finished_now.set(finished)
    done = False
    try:
        written = _apply_job(factory, job_id, now=now, after_commit=after_commit)
        done = True
        return written
    finally:
        _finished_now.reset(reset)
        ids = list(dict.fromkeys([*finished, *([job_id] if done else [])]))
        if ids:
            on_finished(ids)


#: The first read of every message, built once (issue 19: building a select
#: and its cache key cost about 90 µs a call).
_HEAD = select(Job.type, Job.status, Job.request_id, Job.organisation_id).where(
    Job.id == bindparam("job_id", type_=Job.id.type)
)


def _apply_job(
    factory: sessionmaker[Session],
    job_id: uuid.UUID,
    *,
    now: Callable[[], datetime],
    after_commit: AfterCommit | None,
) -> list[WrittenMessage]:
    # One statement, one round trip: the first cost of every message (issue 19).
    with single_statement(factory) as session:
        head = session.execute(_HEAD, {"job_id": job_id}).one_or_none()
    if head is None:
        logger.warning("job %s not found; message dropped", job_id)
        return []
    if head.status in FINAL_JOB_STATUSES:
        return []
    # The request that accepted the job names every line the worker logs for it.
    token = request_id_var.set(head.request_id)
    try:
        if head.type in GROUP_RUNNERS:
            return GROUP_RUNNERS[head.type](factory, job_id, now=now, after_commit=after_commit)
        return _claim_and_apply(factory, job_id, now=now, after_commit=after_commit)
    except Exception as error:
        if failure_decision(error) == "retry":
            raise
        outbox: list[WrittenMessage] = []
        fail_job(factory, job_id, job_data_error(error), now=now(), outbox=outbox)
        logger.error(
            "job failed: retrying cannot help",
            extra={
                "job_id": str(job_id),
                "job_type": head.type,
                "organisation_id": str(head.organisation_id),
                "outcome": "failed",
                "code": JobDataError.code,
            },
            exc_info=True,
        )
        return outbox
    finally:
        request_id_var.reset(token)


def fail_job(
    factory: sessionmaker[Session],
    job_id: uuid.UUID,
    error: RollcallError,
    *,
    now: datetime,
    outbox: list[WrittenMessage] | None = None,
) -> bool:
    """Fail an unfinished job with ``error`` (added to its errors) in a
    transaction of its own; False if it had already finished. The outbox rows
    it wrote (its webhook) are added to ``outbox`` for the caller to dispatch."""
    with factory() as session, session.begin():
        job = session.get(
            Job, job_id, with_for_update=True, populate_existing=True, options=[defer(Job.payload)]
        )
        if job is None or job.status in FINAL_JOB_STATUSES:
            return False
        job.status = "failed"
        job.errors = [*(job.errors or []), *error.job_errors()]
        job.attempts = max(job.attempts, 1)
        job.started_at = job.started_at or now
        job.finished_at = now
        record_job(session, job, now=now)
        if outbox is not None:
            outbox.extend(take_written(session))
        return True


def _claim_and_apply(
    factory: sessionmaker[Session],
    job_id: uuid.UUID,
    *,
    now: Callable[[], datetime],
    after_commit: AfterCommit | None,
) -> list[WrittenMessage]:
    with factory() as session, session.begin():
        # Not the payload: a runner reads it itself (a bulk job's is big).
        job = session.get(Job, job_id, with_for_update=True, options=[defer(Job.payload)])
        if job is None:
            logger.warning("job %s not found; message dropped", job_id)
            return []
        if job.status in FINAL_JOB_STATUSES:
            return []
        job.status = "running"
        job.attempts += 1
        job.started_at = job.started_at or now()
        context = {
            "job_id": str(job.id),
            "job_type": job.type,
            "organisation_id": str(job.organisation_id),
            "attempt": job.attempts,
        }
        job_type = job.type
    logger.info("job started", extra=context)
    started = time.monotonic()
    try:
        if job_type in RUNNERS:
            # Multi-transaction jobs (chunked bulk) own their transactions.
            written = RUNNERS[job_type](factory, job_id, now=now, after_commit=after_commit)
            logger.info(
                "job finished",
                extra=context
                | {"outcome": _status_of(factory, job_id), "duration_ms": _since(started)},
            )
            return written
        return _apply(factory, job_id, now=now, started=started)
    except Exception as error:
        if failure_decision(error) == "retry":
            logger.warning(
                "job attempt failed; the worker retries it",
                extra=context | {"outcome": "error", "duration_ms": _since(started)},
                exc_info=True,
            )
        raise


def _since(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 1)


class JobLike(Protocol):
    @property
    def id(self) -> uuid.UUID: ...
    @property
    def type(self) -> str: ...
    @property
    def organisation_id(self) -> uuid.UUID: ...
    @property
    def request_id(self) -> str | None: ...


def log_job(message: str, job: JobLike, **extra: Any) -> None:
    """A line about one job, under the request id that accepted it."""
    token = request_id_var.set(job.request_id)
    try:
        logger.info(
            message,
            extra={
                "job_id": str(job.id),
                "job_type": job.type,
                "organisation_id": str(job.organisation_id),
                **extra,
            },
        )
    finally:
        request_id_var.reset(token)


def _status_of(factory: sessionmaker[Session], job_id: uuid.UUID) -> str:
    with factory() as session:
        return str(session.scalar(select(Job.status).where(Job.id == job_id)))


def _apply(
    factory: sessionmaker[Session],
    job_id: uuid.UUID,
    *,
    now: Callable[[], datetime],
    started: float,
) -> list[WrittenMessage]:
    with factory() as session, session.begin():
        job = session.get(Job, job_id, with_for_update=True, populate_existing=True)
        assert job is not None
        if job.status in FINAL_JOB_STATUSES:
            return []
        handler = HANDLERS[job.type]
        try:
            with session.begin_nested():
                result = handler(session, job, now())
        except DomainError as error:
            take_written(session)  # rolled back with the savepoint
            job.status = "failed"
            job.result = None
            job.errors = error.job_errors()
        else:
            job.status = result.pop("job_status", "succeeded")
            job.result = result
        job.finished_at = now()
        record_job(session, job, now=job.finished_at)
        logger.info(
            "job finished",
            extra={
                "job_id": str(job.id),
                "job_type": job.type,
                "organisation_id": str(job.organisation_id),
                "outcome": job.status,
                "duration_ms": _since(started),
            },
        )
        return take_written(session)
