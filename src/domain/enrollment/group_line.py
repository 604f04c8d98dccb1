"""Which queued enroll jobs a group takes, and in what order.

The message's own job is probed and read again under the event's lock; the
group is the event's queued enroll jobs, oldest first, claimed with the line
closed (domain.enrollment.arrivals) and cut before an attendee's second job.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import Select, and_, bindparam, or_, select
from sqlalchemy.orm import Session, sessionmaker

from rollcall.domain.enrollment.arrivals import closed_line
from rollcall.models import Event, Job
from rollcall.models.db import single_statement
from rollcall.models.jobs import FINAL_JOB_STATUSES
from rollcall.models.sql_lists import among_parameter

ENROLL = "enroll"
#: Jobs per group: bounds the transaction, and the wait of a job left out.
GROUP_MAX = 500


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


#: The statements a group runs, built once: building a SELECT and its cache key
#: costs about 90 us each time, a tenth of a group's statements' own cost.
_OWN = select(*_COLUMNS).where(Job.id == bindparam("job_id", type_=Job.id.type))
_OWN_LOCKED = _OWN.with_for_update()
_OWN_SHARED = _OWN.with_for_update(read=True)
_QUEUED = (
    select(Job.id)
    .where(
        Job.status.not_in(FINAL_JOB_STATUSES),
        or_(
            Job.id == bindparam("own_id", type_=Job.id.type),
            and_(
                Job.event_id == bindparam("event_id", type_=Job.id.type),
                Job.organisation_id == bindparam("organisation_id", type_=Job.id.type),
                Job.type == ENROLL,
                Job.status == "queued",
            ),
        ),
    )
    .order_by(Job.created_at, Job.id)
    .limit(GROUP_MAX)
)


@lru_cache(maxsize=4)
def _claimed(dialect: str) -> Select[Any]:
    return (
        select(*_COLUMNS)
        .where(among_parameter(dialect, Job.id, "ids"), Job.status.not_in(FINAL_JOB_STATUSES))
        .order_by(Job.created_at, Job.id)
        .with_for_update()
    )


def read_own(session: Session, job_id: uuid.UUID, *, lock: bool) -> QueuedJob | None:
    row = session.execute(_OWN_LOCKED if lock else _OWN, {"job_id": job_id}).first()
    return QueuedJob(*row) if row is not None else None


def probe_own(factory: sessionmaker[Session], job_id: uuid.UUID) -> QueuedJob | None:
    """The message's job, read once no group holds it: a share lock, taken and
    dropped in a transaction of its own (it must not be held while waiting
    for the event). A worker whose job a group is applying thus waits on that
    job's row and finds it done, instead of queueing for the event behind the
    group just to learn that. One statement on its own (models.db.single_statement):
    the lock lasts as long as the statement, and nothing is left to commit."""
    with single_statement(factory) as session:
        row = session.execute(_OWN_SHARED, {"job_id": job_id}).first()
        return QueuedJob(*row) if row is not None else None


def claim(session: Session, event: Event, own: QueuedJob) -> list[QueuedJob]:
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
            _QUEUED,
            {"own_id": own.id, "event_id": event.id, "organisation_id": event.organisation_id},
        ).all()
    dialect = session.get_bind().dialect.name
    rows = session.execute(_claimed(dialect), {"ids": list(ids)})
    return [QueuedJob(*row) for row in rows]


def in_line(claimed: Sequence[QueuedJob], event_id: str) -> list[QueuedJob]:
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
