"""Inserting many rows at once: COPY on PostgreSQL, executemany elsewhere.

Bulk enrollment writes tens of thousands of rows in one transaction; psycopg's
COPY ... FROM STDIN is several times faster than executemany, and runs on the
session's own connection, so it commits or rolls back with everything else.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import JSON, insert
from sqlalchemy.orm import Session

from models.base import Base


def insert_rows(session: Session, model: type[Base], rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys, every value given) into
    ``model``'s table within the session's transaction."""
    if not rows:
        return
    table = model.__table__
    if session.get_bind().dialect.name != "postgresql":
        session.execute(insert(model), list(rows))
        return
    columns = list(rows[0])
    json_columns = {name for name in columns if isinstance(table.c[name].type, JSON)}
    session.flush()  # pending ORM changes first: COPY bypasses the unit of work
    raw = session.connection().connection.dbapi_connection
    assert raw is not None
    names = ", ".join(f'"{name}"' for name in columns)
    statement = f'COPY "{model.__tablename__}" ({names}) FROM STDIN'
    with raw.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[attr-defined]
        for row in rows:
            copy.write_row(
                [json.dumps(row[name]) if name in json_columns else row[name] for name in columns]
            )
