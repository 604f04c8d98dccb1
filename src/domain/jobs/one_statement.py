"""A job and its outbox row recorded by one statement (PostgreSQL).

``submit_job`` costs the ORM's round trips: the job's INSERT, the outbox
row's, and before them the line's stamp (domain.enrollment.arrivals) and,
with an Idempotency-Key, a read by key and a savepoint around the INSERT.
Here all of it is one statement::

    WITH turn AS MATERIALIZED (SELECT pg_advisory_xact_lock_shared(...)),
    job AS (INSERT INTO jobs (...) SELECT ..., (SELECT clock_timestamp() FROM turn)
            ON CONFLICT (organisation_id, idempotency_key) DO NOTHING
            RETURNING jobs.id, jobs.created_at),
    msg AS (INSERT INTO outbox (...) SELECT ..., job.created_at FROM job RETURNING outbox.id)
    SELECT job.created_at, msg.id FROM job JOIN msg ON true

The job's columns are ``engine.queued_job``'s, as the ORM writes them; its
stamp the line's (``line_stamp``: the turn is held until the statement's
transaction commits), or the caller's clock for a job of no event. The
statement is built once per shape, its values are parameters. Run on
its own in autocommit, the statement is the whole transaction: one round
trip, no BEGIN and no COMMIT.

A repeated Idempotency-Key inserts nothing (``DO NOTHING``; a racing
duplicate waits for the first insert's transaction, then inserts nothing):
the job is then read by key, in a statement of its own (which sees the
committed first job), and answered as ``submit_job`` answers it (the same
job, or IdempotencyKeyReused).

A job whose event is named by a UUID not yet looked up (the enroll route's
path) is *guarded*: a first CTE checks that the event is its organisation's,
the job is inserted only then, and the answer says which; the event's read is
no round trip of its own.

No ORM flush inserts these rows, so no flush listener sees them: the only
one (domain.calendar.sync) watches enrollments, events and their parts,
never jobs or outbox rows.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, ScalarSelect, Select, Table, bindparam, exists, select, true
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session
from sqlalchemy.orm.session import make_transient_to_detached

from rollcall.domain.enrollment.arrivals import line_params, line_stamp
from rollcall.domain.jobs import actor_names
from rollcall.domain.jobs.engine import job_by_key, same_request
from rollcall.domain.jobs.outbox import WrittenMessage, note_written
from rollcall.models import Event, Job, OutboxMessage
from rollcall.models.base import new_id

_JOBS = cast(Table, Job.__table__)
_OUTBOX = cast(Table, OutboxMessage.__table__)
_EVENTS = cast(Table, Event.__table__)


def available(session: Session) -> bool:
    """Whether the session's database records a job in one statement
    (PostgreSQL: data-modifying CTEs, ``ON CONFLICT``)."""
    return session.get_bind().dialect.name == "postgresql"


@functools.cache
def _statement(
    columns: tuple[str, ...], in_line: bool, guarded: bool = False
) -> Select[tuple[Any, ...]]:
    """The statement for a job of these columns (``queued_job``'s), stamped
    in its event's line (``line_stamp``) or by the caller (``created_at``).
    Built once: a request pays its parameters only (SQLAlchemy caches the
    compiled form by the statement's structure).

    ``guarded``: the job's ``event_id`` is not yet known to be an event of
    its organisation. A first CTE looks (``guard``), the job is inserted
    only if it is one, and the answer's first column says whether it was:
    the event's read and the job's write are one round trip."""
    created_at: ColumnElement[datetime] | ScalarSelect[datetime] = (
        line_stamp() if in_line else bindparam("created_at", type_=_JOBS.c.created_at.type)
    )
    values = [bindparam(f"job_{name}", type_=_JOBS.c[name].type) for name in columns]
    rows = select(*values, created_at)
    guard = None
    if guarded:
        guard = select(
            exists()
            .where(
                _EVENTS.c.id == bindparam("job_event_id", type_=_JOBS.c.event_id.type),
                _EVENTS.c.organisation_id
                == bindparam("job_organisation_id", type_=_JOBS.c.organisation_id.type),
            )
            .label("found")
        ).cte("guard")
        rows = rows.select_from(guard).where(guard.c.found)
    job = (
        insert(_JOBS)
        .from_select([*columns, "created_at"], rows)
        .on_conflict_do_nothing(index_elements=[_JOBS.c.organisation_id, _JOBS.c.idempotency_key])
        .returning(_JOBS.c.id, _JOBS.c.created_at)
        .cte("job")
    )
    message = [bindparam(f"message_{name}", type_=_OUTBOX.c[name].type) for name in _MESSAGE]
    msg = (
        insert(_OUTBOX)
        .from_select([*_MESSAGE, "created_at"], select(*message, job.c.created_at))
        .returning(_OUTBOX.c.id)
        .cte("msg")
    )
    if guard is None:
        # One row from each (none from either on a conflict): joined on true.
        return select(job.c.created_at, msg.c.id).select_from(job.join(msg, true()))
    # The guard's one row, with the job's and its message's if they were written.
    return select(job.c.created_at, msg.c.id, guard.c.found).select_from(
        guard.outerjoin(job.join(msg, true()), true())
    )


#: The outbox row's columns given (the others: their defaults).
_MESSAGE = ("id", "actor", "args")


class NotAnEventOfTheOrganisation(LookupError):
    """A guarded job's ``event_id`` names no event of its organisation:
    nothing was written (the caller looks the event up as it always does)."""


def submit_job_in_one_statement(
    session: Session, row: dict[str, Any], *, stamp: datetime | None, guarded: bool = False
) -> tuple[Job, bool]:
    """``engine.submit_job`` in one statement, in the session's transaction
    (or alone, in autocommit): returns (job, created). ``row`` is the job as
    ``engine.queued_job`` makes it (the one definition of its columns);
    ``stamp`` its ``created_at``; None: the stamp of its event's line
    (``line_stamp``, the row's ``event_id`` required). The outbox row is kept
    for ``take_written``, as written. ``guarded``: the row's ``event_id`` is
    checked in the statement (NotAnEventOfTheOrganisation if it is none)."""
    sent = WrittenMessage(id=new_id(), actor=actor_names.PROCESS_JOB, args=[str(row["id"])])
    params: dict[str, Any] = {f"job_{name}": value for name, value in row.items()}
    params |= {"message_id": sent.id, "message_actor": sent.actor, "message_args": sent.args}
    if stamp is None:
        if row["event_id"] is None:
            raise ValueError("a job of no event is stamped by its caller")
        params |= line_params(row["event_id"])
    else:
        params["created_at"] = stamp
    # Whatever the ORM holds unflushed goes first, as submit_job's flush
    # would send it (a route's row lock before the line's turn).
    session.flush()
    statement = _statement(tuple(row), stamp is None, guarded)
    written = session.execute(statement, params).one_or_none()
    if guarded:
        assert written is not None  # the guard's row is always there
        if not written.found:
            raise NotAnEventOfTheOrganisation(row["event_id"])
        if written.created_at is None:
            written = None
    if written is None:  # the key's first job exists (or has just committed)
        existing = job_by_key(session, row["organisation_id"], row["idempotency_key"] or "")
        if existing is None:  # pragma: no cover - DO NOTHING only on a conflict
            raise RuntimeError("a job insert did nothing, and no job holds its key")
        return same_request(existing, row["type"], row["payload"]), False
    note_written(session, sent)
    recorded = Job(**row, created_at=written.created_at)
    # Known to the session as the stored row it is (no INSERT at a flush).
    make_transient_to_detached(recorded)
    session.add(recorded)
    return recorded, True
