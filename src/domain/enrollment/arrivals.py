"""The line's order that a worker can trust: no job stamped earlier commits later.

Intake stamps a job's ``created_at`` (its place in line) and commits moments
later. Two requests racing through intake could commit in the other order of
their stamps, and a worker claiming the event's queued jobs in between would
seat the later one while the earlier one, not yet visible, arrives late.

So on PostgreSQL the intake takes a shared advisory lock per event and
reads the stamp from the database clock under it, holding the lock until
the job commits: ``line_stamp`` is that stamp, a part of the one statement
that records the job with its outbox row (domain.jobs.one_statement; run on
its own, in autocommit, the lock lasts exactly that statement's
transaction, its commit included). The enroll group claims the event's queued jobs
under the exclusive lock (``closed_line``). Every job stamped before the
claim has then committed and is seen, and every job stamped after it stamps
later than all it claimed. Intake waits only while a claim statement runs
(milliseconds), never for the group's transaction; one clock (the
database's) stamps for every web host.

On SQLite intake stamps inside its write transaction (``BEGIN IMMEDIATE``),
which serialises with the worker's anyway: nothing to do.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import Integer, ScalarSelect, bindparam, func, select, text
from sqlalchemy.orm import Session

#: The advisory lock space of the line (two-int keys never meet the bigint
#: keys used elsewhere): this class, and 32 bits of the event id. Two events
#: sharing a key only wait for each other's claims a little.
_LINE_CLASS = 0x52434C01


def _key(event_id: uuid.UUID) -> int:
    return int.from_bytes(event_id.bytes[:4], "big", signed=True)


def _fenced(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def line_stamp() -> ScalarSelect[datetime]:
    """The stamp to give a job of an event (PostgreSQL), as a part of the
    statement that inserts it: the database clock, read after the event's
    line turn was granted (``WITH turn AS MATERIALIZED (SELECT
    pg_advisory_xact_lock_shared(...)) ... (SELECT clock_timestamp() FROM
    turn)``); the event's turn is named by ``line_params``, with the
    statement's parameters (so the statement is built once). The turn is
    held to the end of the statement's transaction: the job's commit. Where
    no fence is needed (SQLite) the caller stamps with its own clock, inside
    its write transaction.

    Take it last, after any row lock the transaction needs (a route that
    cancels the event locks its row first): a worker waits for the exclusive
    turn while it holds the event's row, so the other order could deadlock."""
    lock = func.pg_advisory_xact_lock_shared(
        bindparam("line_class", type_=Integer), bindparam("line_key", type_=Integer)
    )
    turn = select(lock.label("turn")).cte("turn").prefix_with("MATERIALIZED")
    return select(func.clock_timestamp()).select_from(turn).scalar_subquery()


def line_params(event_id: uuid.UUID) -> dict[str, int]:
    """The parameters of ``line_stamp`` naming this event's turn."""
    return {"line_class": _LINE_CLASS, "line_key": _key(event_id)}


_CLOSE = text("SELECT pg_advisory_lock(:cls, :key)")
_REOPEN = text("SELECT pg_advisory_unlock(:cls, :key)")


@contextmanager
def closed_line(session: Session, *, event_id: uuid.UUID) -> Iterator[None]:
    """While inside, no intake of this event stamps a job, and every job
    stamped before has committed: the block's statements see all of them.

    A session-level lock, so it is released as soon as the block ends, not
    at the caller's commit; the block runs in a savepoint so that the unlock
    still runs if a statement in it fails (a broken connection releases the
    lock with the connection)."""
    if not _fenced(session):
        yield
        return
    params = {"cls": _LINE_CLASS, "key": _key(event_id)}
    session.execute(_CLOSE, params)
    try:
        with session.begin_nested():
            yield
    finally:
        session.execute(_REOPEN, params)
