"""The one policy that decides whether failed work is retried: a table."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest
import redis
from psycopg import errors as pg
from sqlalchemy import exc as sa

from rollcall.domain.errors.enrollment import EventFull
from rollcall.domain.errors.ops import JobDataError
from rollcall.domain.jobs.failure_policy import describe, failure_decision, job_data_error


def wrapped(kind: type[sa.DBAPIError], orig: BaseException, **options: bool) -> sa.DBAPIError:
    """As SQLAlchemy raises a driver's error: statement, parameters, original."""
    return kind("INSERT INTO attendees ...", {"name": "x"}, orig, **options)


NUL = psycopg.DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes")

TABLE = [
    # A moment's trouble: the same work may succeed when tried again.
    ("serialisation failure", wrapped(sa.OperationalError, pg.SerializationFailure()), "retry"),
    ("deadlock", wrapped(sa.OperationalError, pg.DeadlockDetected()), "retry"),
    ("lock timeout", wrapped(sa.OperationalError, pg.LockNotAvailable()), "retry"),
    ("statement timeout", wrapped(sa.OperationalError, pg.QueryCanceled()), "retry"),
    ("admin shutdown", wrapped(sa.OperationalError, pg.AdminShutdown()), "retry"),
    ("cannot connect now", wrapped(sa.OperationalError, pg.CannotConnectNow()), "retry"),
    ("too many connections", wrapped(sa.OperationalError, pg.TooManyConnections()), "retry"),
    ("lost connection", wrapped(sa.OperationalError, psycopg.OperationalError("closed")), "retry"),
    ("connection closed", wrapped(sa.InterfaceError, psycopg.InterfaceError("closed")), "retry"),
    ("invalidated", wrapped(sa.DBAPIError, NUL, connection_invalidated=True), "retry"),
    ("idle timeout", wrapped(sa.InternalError, pg.IdleInTransactionSessionTimeout()), "retry"),
    ("sqlite locked", wrapped(sa.OperationalError, sqlite3.OperationalError("locked")), "retry"),
    # An integrity error that is really a serialisation failure is retried.
    ("40001 as integrity", wrapped(sa.IntegrityError, pg.SerializationFailure()), "retry"),
    ("pool exhausted", sa.TimeoutError("QueuePool limit reached"), "retry"),
    ("pending rollback", sa.PendingRollbackError("rolled back"), "retry"),
    ("concurrent inserts", RuntimeError("attendees kept being inserted concurrently"), "retry"),
    ("socket", ConnectionResetError(104, "reset"), "retry"),
    ("timeout", TimeoutError("timed out"), "retry"),
    ("redis", redis.ConnectionError("refused"), "retry"),
    ("raw driver: lost", psycopg.OperationalError("server closed the connection"), "retry"),
    ("raw driver: closed", psycopg.InterfaceError("the connection is closed"), "retry"),
    ("unknown", Exception("something else"), "retry"),
    # The work itself is wrong: trying again fails the same way.
    ("NUL byte", wrapped(sa.DataError, NUL), "fail"),
    ("raw driver: NUL", NUL, "fail"),
    ("raw COPY: NUL", pg.CharacterNotInRepertoire("invalid byte sequence"), "fail"),
    ("raw sqlite", sqlite3.IntegrityError("NOT NULL constraint failed"), "fail"),
    ("too long", wrapped(sa.DataError, pg.StringDataRightTruncation()), "fail"),
    ("out of range", wrapped(sa.DataError, pg.NumericValueOutOfRange()), "fail"),
    ("unique", wrapped(sa.IntegrityError, pg.UniqueViolation()), "fail"),
    ("foreign key", wrapped(sa.IntegrityError, pg.ForeignKeyViolation()), "fail"),
    ("not null", wrapped(sa.IntegrityError, pg.NotNullViolation()), "fail"),
    ("sqlite unique", wrapped(sa.IntegrityError, sqlite3.IntegrityError("UNIQUE")), "fail"),
    ("undefined column", wrapped(sa.ProgrammingError, pg.UndefinedColumn()), "fail"),
    ("no primary key", sa.InvalidRequestError("No primary key value supplied"), "fail"),
    (
        "bad bind value",
        sa.StatementError("naive datetime", "UPDATE ...", {}, ValueError("naive")),
        "fail",
    ),
    ("missing key", KeyError("attendee"), "fail"),
    ("bad type", TypeError("'NoneType' object is not subscriptable"), "fail"),
    ("bad uuid", ValueError("badly formed hexadecimal UUID string"), "fail"),
    ("bad utf-8", UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"), "fail"),
    ("year 1 minus a day", OverflowError("date value out of range"), "fail"),
    ("deep json", RecursionError("maximum recursion depth exceeded"), "fail"),
    ("missing row", AssertionError(), "fail"),
    ("none attribute", AttributeError("'NoneType' object has no attribute 'id'"), "fail"),
    ("domain refusal", EventFull(), "fail"),
]


@pytest.mark.parametrize(
    ("error", "decision"), [pytest.param(e, d, id=name) for name, e, d in TABLE]
)
def test_failure_decision(error: BaseException, decision: str) -> None:
    assert failure_decision(error) == decision


def test_a_data_error_is_described_by_the_drivers_first_line_not_the_statement() -> None:
    error = wrapped(sa.DataError, NUL)
    assert describe(error) == "DataError: PostgreSQL text fields cannot contain NUL (0x00) bytes"
    assert describe(KeyError("ref")) == "KeyError: 'ref'"
    assert len(describe(ValueError("x" * 1000))) == 300


def test_a_job_data_error_has_its_code_message_and_the_cause() -> None:
    error = job_data_error(OverflowError("date value out of range"))
    assert isinstance(error, JobDataError)
    assert error.job_errors() == [
        {
            "code": "JOB_DATA_ERROR",
            "message": (
                "The job's data cannot be applied, and trying again would fail the same way."
            ),
            "details": {"error": "OverflowError: date value out of range"},
        }
    ]
