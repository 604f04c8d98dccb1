"""Inserting many rows at once: binary COPY on PostgreSQL, executemany elsewhere.

Bulk enrollment writes tens of thousands of rows in one transaction; psycopg's
``COPY ... FROM STDIN (FORMAT BINARY)`` is several times faster than
executemany (and than text COPY), and runs on the session's own connection,
so it commits or rolls back with everything else.
"""

from __future__ import annotations

from collections.abc import Iterable
from operator import itemgetter
from typing import Any

import psycopg
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Connection,
    DateTime,
    Integer,
    Numeric,
    String,
    Text,
    Uuid,
    insert,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rollcall.models.base import Base, UTCDateTime

#: SQLAlchemy type -> the PostgreSQL type whose binary format COPY receives.
_PG_TYPES: list[tuple[type[Any], str]] = [
    (UTCDateTime, "timestamptz"),
    (DateTime, "timestamptz"),
    (Uuid, "uuid"),
    (BigInteger, "int8"),
    (Integer, "int4"),
    (Numeric, "numeric"),
    (Boolean, "bool"),
    (JSON, "json"),
    (String, "text"),
    (Text, "text"),
]


def pg_copy_type(column: Column[Any]) -> str:
    for sa_type, pg_type in _PG_TYPES:
        if isinstance(column.type, sa_type):
            return pg_type
    raise TypeError(f"no COPY type for {column.name}: {column.type!r}")


def insert_rows(session: Session, model: type[Base], rows: Iterable[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys, every value given; datetimes
    aware UTC) into ``model``'s table within the session's transaction.

    ``rows`` may be a generator: on PostgreSQL each row is then built while the
    server is already taking the rows before it."""
    if session.get_bind().dialect.name == "postgresql":
        session.flush()  # pending ORM changes first: COPY bypasses the unit of work
    copy_rows(session.connection(), model, rows)


def copy_rows(conn: Connection, model: type[Base], rows: Iterable[dict[str, Any]]) -> None:
    """``insert_rows`` on a Connection (no flush: safe inside one)."""
    iterator = iter(rows)
    first = next(iterator, None)
    if first is None:
        return
    if conn.dialect.name != "postgresql":
        conn.execute(insert(model), [first, *iterator])
        return
    table = model.__table__
    columns = list(first)
    types = [pg_copy_type(table.c[name]) for name in columns]  # type: ignore[arg-type]
    values = itemgetter(*columns) if len(columns) > 1 else (lambda row: (row[columns[0]],))
    raw = conn.connection.dbapi_connection
    assert raw is not None
    names = ", ".join(f'"{name}"' for name in columns)
    statement = f'COPY "{model.__tablename__}" ({names}) FROM STDIN (FORMAT BINARY)'
    try:
        with raw.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[attr-defined]
            copy.set_types(types)
            copy.write_row(values(first))
            for row in iterator:
                copy.write_row(values(row))
    except psycopg.IntegrityError as exc:
        # COPY runs on the raw connection: raise what SQLAlchemy would have.
        raise IntegrityError(statement, None, exc) from exc
