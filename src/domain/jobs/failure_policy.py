"""Whether work that raised may succeed if tried again: the one policy.

Workers apply jobs and the scheduler's producers handle rows; both ask this
module what an exception means. ``retry`` is for the world being briefly
wrong (a lost connection, a serialisation failure, a deadlock, a lock or
statement timeout, a full connection pool): the same work may succeed in a
moment. ``fail`` is for the work itself being wrong (a value the database
refuses, a broken constraint, a payload the code cannot read, an ORM
misuse on odd data): trying again fails the same way, so a job fails at
once with JOB_DATA_ERROR and a producer skips the row.

Anything not recognised is retried: an unknown error keeps the old
behaviour (retries with backoff, then the dead letter), never loses work.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy import exc as sa

from rollcall.domain.errors import RollcallError
from rollcall.domain.errors.ops import JobDataError

Decision = Literal["retry", "fail"]

#: SQLSTATE classes of a moment's trouble: connection exception, transaction
#: rollback (serialisation failure, deadlock), insufficient resources,
#: operator intervention (admin shutdown, statement timeout), system error.
_RETRY_CLASSES = frozenset({"08", "40", "53", "57", "58"})
#: Lock not available (lock_timeout, NOWAIT), object in use, idle-in-transaction timeout.
_RETRY_STATES = frozenset({"55P03", "55006", "25P03"})
#: Data exception, integrity constraint violation: the values themselves.
_FAIL_CLASSES = frozenset({"22", "23"})

#: First match wins (subclasses before their bases).
_BY_TYPE: tuple[tuple[type[BaseException], Decision], ...] = (
    # The session had to roll back after an earlier error: that one decided.
    (sa.PendingRollbackError, "retry"),
    (sa.OperationalError, "retry"),
    (sa.InterfaceError, "retry"),
    (sa.DisconnectionError, "retry"),
    (sa.TimeoutError, "retry"),  # no pooled connection free in time
    (sa.DataError, "fail"),
    (sa.IntegrityError, "fail"),
    (sa.ProgrammingError, "fail"),
    (sa.NotSupportedError, "fail"),
    (sa.InvalidRequestError, "fail"),  # e.g. "No primary key value supplied"
    (sa.ArgumentError, "fail"),
    (sa.CompileError, "fail"),
    (RollcallError, "fail"),
    (RecursionError, "fail"),  # before RuntimeError, which is retried
    (LookupError, "fail"),  # KeyError, IndexError: a payload lacks what it needs
    (TypeError, "fail"),
    (ValueError, "fail"),  # UnicodeError, a bad UUID or date, a JSON that is not
    (ArithmeticError, "fail"),  # OverflowError: a date past year 9999
    (AttributeError, "fail"),
    (AssertionError, "fail"),
    (NotImplementedError, "fail"),
)


#: PEP 249 gives every driver's exceptions these names (psycopg, sqlite3): a
#: driver error raised without SQLAlchemy's wrapper (a raw COPY) is judged by them.
_BY_DBAPI_NAME: dict[str, Decision] = {
    "OperationalError": "retry",
    "InterfaceError": "retry",
    "DataError": "fail",
    "IntegrityError": "fail",
    "ProgrammingError": "fail",
    "NotSupportedError": "fail",
}


def _sqlstate(error: BaseException) -> str | None:
    state = getattr(error, "sqlstate", None)  # psycopg
    return state if isinstance(state, str) and len(state) == 5 else None


def failure_decision(error: BaseException) -> Decision:
    """``retry`` if the same work may succeed later, ``fail`` if it cannot."""
    if isinstance(error, sa.DBAPIError) and error.connection_invalidated:
        return "retry"
    cause: BaseException = error
    if isinstance(error, sa.StatementError) and not isinstance(error, sa.DBAPIError):
        # A Python error raised while binding a parameter: judge that error.
        cause = error.orig if isinstance(error.orig, BaseException) else error
    driver = error.orig if isinstance(error, sa.DBAPIError) else None
    state = _sqlstate(driver or error)
    if state is not None:
        if state in _RETRY_STATES or state[:2] in _RETRY_CLASSES:
            return "retry"
        if state[:2] in _FAIL_CLASSES:
            return "fail"
    for kind, decision in _BY_TYPE:
        if isinstance(cause, kind):
            return decision
    for base in type(cause).__mro__:
        if base.__name__ in _BY_DBAPI_NAME:
            return _BY_DBAPI_NAME[base.__name__]
    return "retry"


def describe(error: BaseException) -> str:
    """``Type: first line of the message``, short: the database driver's own
    error when there is one (SQLAlchemy's text repeats the statement and its
    parameters, which can be a thousand rows long)."""
    cause = error.orig if isinstance(error, sa.StatementError) and error.orig else error
    lines = str(cause).strip().splitlines()
    text = f"{type(cause).__name__}: {lines[0] if lines else ''}".rstrip(": ")
    return text if len(text) <= 300 else text[:299] + "…"


def job_data_error(error: BaseException) -> JobDataError:
    """The error a job fails with when ``failure_decision`` says ``fail``."""
    return JobDataError(error=describe(error))
