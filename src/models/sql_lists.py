"""``column IN (many values)``, cheaply on PostgreSQL.

SQLAlchemy expands ``in_()`` into one bind parameter per value; with hundreds
of values psycopg parses (and cannot cache) a long statement each time, which
costs more than running it. On PostgreSQL one array parameter does the same:
``column = ANY(%(ids)s::uuid[])``. SQLite keeps the plain IN list.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import ColumnElement, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY


def among(dialect: str, column: Any, values: Collection[Any]) -> ColumnElement[bool]:
    """``column`` is one of ``values`` (``dialect``: the bind's dialect name)."""
    if dialect == "postgresql":
        array = bindparam(None, list(values), type_=ARRAY(column.type))
        return column == any_(array)  # type: ignore[no-any-return]
    return column.in_(list(values))  # type: ignore[no-any-return]


def among_parameter(dialect: str, column: Any, name: str) -> ColumnElement[bool]:
    """``among`` with its values left to a parameter ``name`` (a list, given at
    execution), for a statement built once: one array on PostgreSQL, an
    expanding ``IN`` elsewhere."""
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=ARRAY(column.type)))  # type: ignore[no-any-return]
    return column.in_(bindparam(name, expanding=True))  # type: ignore[no-any-return]
