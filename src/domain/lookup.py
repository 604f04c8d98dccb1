"""Finding an organisation's row by id or by ``ref``: one rule for events,
offers and attendees."""

from __future__ import annotations

import functools
import uuid
from typing import Any, TypeVar, cast

from sqlalchemy import Select, Table, bindparam, select
from sqlalchemy.orm import Session

T = TypeVar("T")


def by_id_or_ref(
    session: Session,
    model: type[T],
    *,
    organisation_id: uuid.UUID,
    id_or_ref: str,
    ref_first: bool = False,
) -> T | None:
    """The organisation's ``model`` row whose id (when ``id_or_ref`` is a UUID)
    or ``ref`` is ``id_or_ref``; the id is tried first unless ``ref_first``
    (attendees: the upstream system's ref is their usual name). Another
    organisation's row is None, as a missing one is."""
    found: T | None = _first(session, model, organisation_id, id_or_ref, ref_first)
    return found


def id_by_id_or_ref(
    session: Session,
    model: type[Any],
    *,
    organisation_id: uuid.UUID,
    id_or_ref: str,
    ref_first: bool = False,
) -> uuid.UUID | None:
    """``by_id_or_ref``'s row's id alone, by the same rule: for a caller that
    needs no more of the row (a job's intake). The row is not loaded as an
    ORM object, and the statements are Core ones built once per table, run
    on the session's connection: on the enroll route's path, the ORM's
    statement building and execution cost more than the read itself
    (README, Benchmarks: bench_intake)."""
    row_id = as_row_id(id_or_ref)
    by_id, by_ref = _id_statements(cast(Table, model.__table__))
    tries: list[tuple[Select[uuid.UUID], dict[str, Any]]] = [(by_ref, {"ref": id_or_ref})]
    if row_id is not None:
        tries.insert(len(tries) if ref_first else 0, (by_id, {"row_id": row_id}))
    if session.autoflush:  # as session.scalar would: pending rows first
        session.flush()
    connection = session.connection()
    for statement, params in tries:
        found: uuid.UUID | None = connection.execute(
            statement, {"organisation_id": organisation_id, **params}
        ).scalar()
        if found is not None:
            return found
    return None


@functools.cache
def _id_statements(table: Table) -> tuple[Select[uuid.UUID], Select[uuid.UUID]]:
    """``SELECT id`` of ``table``'s row of an organisation by id, and by ref;
    the values are parameters (``organisation_id``, ``row_id``, ``ref``)."""
    mine = select(table.c.id).where(
        table.c.organisation_id == bindparam("organisation_id", type_=table.c.organisation_id.type)
    )
    return (
        mine.where(table.c.id == bindparam("row_id", type_=table.c.id.type)),
        mine.where(table.c.ref == bindparam("ref", type_=table.c.ref.type)),
    )


def as_row_id(id_or_ref: str) -> uuid.UUID | None:
    """The id ``id_or_ref`` spells, tried before the ref; None if it is no UUID."""
    try:
        return uuid.UUID(id_or_ref)
    except ValueError:
        return None


def _first(
    session: Session,
    model: Any,
    organisation_id: uuid.UUID,
    id_or_ref: str,
    ref_first: bool,
) -> Any:
    row_id = as_row_id(id_or_ref)
    query = select(model).where(model.organisation_id == organisation_id)
    by_id = query.where(model.id == row_id) if row_id is not None else None
    by_ref = query.where(model.ref == id_or_ref)
    for attempt in (by_ref, by_id) if ref_first else (by_id, by_ref):
        if attempt is not None and (found := session.scalar(attempt)) is not None:
            return found
    return None
