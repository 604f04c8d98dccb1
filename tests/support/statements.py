"""Counting the SQL statements a piece of work costs (counted, never timed)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from psycopg.pq import TransactionStatus
from sqlalchemy import event as sa_event
from sqlalchemy.engine import Engine

from rollcall.models.db import sessions_of
from tests.support.stack import Stack


@contextmanager
def counting(stack: Stack) -> Iterator[list[str]]:
    """The statements run on the stack's engine meanwhile, but neither SQLite's
    own transaction starts nor those of the in-process worker's background
    threads (``rollcall-outbox-acks`` marks earlier messages done whenever it
    flushes, ``rollcall-ops-stats``...): they are not the work being counted."""
    statements: list[str] = []
    engine = sessions_of(stack.settings).kw["bind"]

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        background = threading.current_thread().name.startswith("rollcall-")
        if not statement.startswith("BEGIN") and not background:
            statements.append(statement)

    sa_event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        sa_event.remove(engine, "before_cursor_execute", count)


@contextmanager
def every_statement() -> Iterator[list[tuple[str, str]]]:
    """Every SQL statement any engine of this process runs meanwhile (the
    in-process worker's too), flattened and lower-cased, with its parameters."""
    seen: list[tuple[str, str]] = []

    def note(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        seen.append((" ".join(statement.split()).lower(), repr(parameters)))

    sa_event.listen(Engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        sa_event.remove(Engine, "before_cursor_execute", note)


@contextmanager
def round_trips(stack: Stack) -> Iterator[list[str]]:
    """What the stack's engine sent PostgreSQL meanwhile, one entry per round
    trip, flattened and lower-cased: each statement, and the ``begin``,
    ``commit`` and ``rollback`` psycopg sends on its own (a statement run
    outside autocommit while no transaction is open starts one first; a
    commit or rollback of a connection with no open transaction sends
    nothing). Not those of the background threads (as ``counting``)."""
    trips: list[str] = []
    engine = sessions_of(stack.settings).kw["bind"]

    def ours() -> bool:
        return not threading.current_thread().name.startswith("rollcall-")

    def raw(conn: Any) -> Any:
        return conn.connection.dbapi_connection

    def statement(conn: Any, _cursor: Any, text: str, *_args: Any) -> None:
        if not ours():
            return
        dbapi = raw(conn)
        if not dbapi.autocommit and dbapi.info.transaction_status == TransactionStatus.IDLE:
            trips.append("begin")
        trips.append(" ".join(text.split()).lower())

    def ending(name: str) -> Any:
        def ended(conn: Any) -> None:
            if ours() and raw(conn).info.transaction_status != TransactionStatus.IDLE:
                trips.append(name)

        return ended

    commit, rollback = ending("commit"), ending("rollback")
    sa_event.listen(engine, "before_cursor_execute", statement)
    sa_event.listen(engine, "commit", commit)
    sa_event.listen(engine, "rollback", rollback)
    try:
        yield trips
    finally:
        sa_event.remove(engine, "before_cursor_execute", statement)
        sa_event.remove(engine, "commit", commit)
        sa_event.remove(engine, "rollback", rollback)
