"""Listing (seed 002 ``listing``: enabled, categories, tags) and the
organisation's catalogue: its listed, published, not cancelled events,
filtered by category, tag, type, the dates of their occurrences and text.

Labels are stored as given on the event (``categories``, ``tags``) and, keyed
lowercased, in ``event_labels`` for the filters. Text is PostgreSQL full-text
search over name and description (the GIN index of migration 0088: 'simple'
configuration, words as written, ``websearch_to_tsquery`` syntax: quotes for
a phrase, ``or``, ``-word``); SQLite has no such search, so there every word
of the query must occur in the name or description (LIKE, ASCII case folded).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    delete,
    exists,
    func,
    insert,
    literal_column,
    or_,
    select,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from rollcall.models import Event, EventLabel, Occurrence
from rollcall.models.events import SEARCH_VECTOR_SQL

#: Label kinds, by the event column that holds them as given.
LABEL_COLUMNS = {"category": "categories", "tag": "tags"}


def label_key(name: str) -> str:
    """The key a label is matched by: trimmed and case folded."""
    return name.strip().casefold()


def write_labels(session: Session, *, event: Event) -> None:
    """Make ``event_labels`` hold the event's categories and tags (its keys)."""
    session.flush()
    session.execute(delete(EventLabel).where(EventLabel.event_id == event.id))
    rows = [
        {"event_id": event.id, "kind": kind, "key": key}
        for kind, column in LABEL_COLUMNS.items()
        for key in dict.fromkeys(label_key(name) for name in getattr(event, column) or [])
    ]
    if rows:
        session.execute(insert(EventLabel), rows)


def listing_changed(changes: dict[str, Any]) -> bool:
    return bool({"categories", "tags"} & changes.keys())


def _has_label(kind: str, keys: Sequence[str]) -> ColumnElement[bool]:
    return exists().where(
        EventLabel.event_id == Event.id,
        EventLabel.kind == kind,
        EventLabel.key.in_([label_key(k) for k in keys]),
    )


def _escape_like(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _matches_text(dialect: str, text: str) -> ColumnElement[bool]:
    if dialect == "postgresql":
        # The indexed expression, spelled as the index has it (models.events).
        vector: ColumnElement[Any] = literal_column(SEARCH_VECTOR_SQL)
        query = func.websearch_to_tsquery(literal_column("'simple'::regconfig"), text)
        return vector.op("@@")(query)
    haystack = func.lower(Event.name + " " + Event.description)
    return and_(
        *(haystack.like(f"%{_escape_like(word.lower())}%", escape="\\") for word in text.split())
    )


def list_catalogue(session: Session, **filters: Any) -> list[Event]:
    """The organisation's catalogue, oldest created first, keyset-paginated
    (``after`` from domain.pagination.decode_cursor; read ``limit + 1``): the
    events of ``catalogue_query(dialect, **filters)``."""
    query = catalogue_query(session.get_bind().dialect.name, **filters)
    return list(session.scalars(query))


def catalogue_query(
    dialect: str,
    *,
    organisation_id: uuid.UUID,
    categories: Sequence[str] = (),
    tags: Sequence[str] = (),
    types: Sequence[str] = (),
    start: datetime | None = None,
    end: datetime | None = None,
    text: str | None = None,
    after: tuple[datetime, uuid.UUID] | None = None,
    limit: int = 50,
) -> Select[Event]:
    """The statement of the catalogue on a ``dialect`` database.

    Several categories (or tags, or types) match any of them; the filters
    together match all. A date range keeps the events with an occurrence not
    cancelled that overlaps [start, end). The caller has checked the range.
    """
    query = select(Event).where(
        Event.organisation_id == organisation_id,
        Event.listed.is_(True),
        Event.status == "published",
        Event.cancelled.is_(False),
    )
    if categories:
        query = query.where(_has_label("category", categories))
    if tags:
        query = query.where(_has_label("tag", tags))
    if types:
        query = query.where(Event.type.in_(list(types)))
    if start is not None or end is not None:
        dated = [Occurrence.event_id == Event.id, Occurrence.cancelled.is_(False)]
        if start is not None:
            dated.append(Occurrence.ends_at > start)
        if end is not None:
            dated.append(Occurrence.starts_at < end)
        query = query.where(exists().where(*dated))
    if text is not None and text.strip():
        query = query.where(_matches_text(dialect, text))
    if after is not None:
        moment, last_id = after
        query = query.where(
            or_(Event.created_at > moment, and_(Event.created_at == moment, Event.id > last_id))
        )
    return query.order_by(Event.created_at, Event.id).limit(limit)
