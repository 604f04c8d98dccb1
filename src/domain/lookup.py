"""Finding an organisation's row by id or by ``ref``: one rule for events,
offers and attendees."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from sqlalchemy import select
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
    found: T | None = _first(session, model, model, organisation_id, id_or_ref, ref_first)
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
    needs no more of the row (the row is not loaded as an ORM object)."""
    table: Any = model
    found: uuid.UUID | None = _first(
        session, model, table.id, organisation_id, id_or_ref, ref_first
    )
    return found


def _first(
    session: Session,
    model: Any,
    what: Any,
    organisation_id: uuid.UUID,
    id_or_ref: str,
    ref_first: bool,
) -> Any:
    try:
        row_id: uuid.UUID | None = uuid.UUID(id_or_ref)
    except ValueError:
        row_id = None
    query = select(what).where(model.organisation_id == organisation_id)
    by_id = query.where(model.id == row_id) if row_id is not None else None
    by_ref = query.where(model.ref == id_or_ref)
    for attempt in (by_ref, by_id) if ref_first else (by_id, by_ref):
        if attempt is not None and (found := session.scalar(attempt)) is not None:
            return found
    return None
