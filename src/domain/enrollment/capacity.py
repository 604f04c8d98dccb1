"""Seats: the capacity invariant, enforced by the database.

A single seat is taken with one conditional UPDATE on the row that owns the
capacity (event, occurrence or session):

    UPDATE events SET enrolled_count = enrolled_count + 1
    WHERE id = :id AND (max_subscriptions IS NULL OR enrolled_count < max_subscriptions)

On PostgreSQL the UPDATE takes the row lock; a concurrent UPDATE waits for it
and re-evaluates the WHERE clause on the committed row (READ COMMITTED), so two
workers can never both take the last seat. On SQLite every write transaction
starts with BEGIN IMMEDIATE, which serialises writers outright. No count is
ever read and then written back, except in ``lock_levels``, which reads under
``SELECT ... FOR UPDATE`` (bulk enrollment grants many seats at once).

A seat in a session is a seat at two levels, the session and the event; the
rows are always taken in the order session -> event (or occurrence), so two
transactions never wait on each other in a cycle.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Integer, bindparam, func, literal, or_, select, update
from sqlalchemy.orm import Session

from rollcall.domain.enrollment.seating import Level, effective_capacity
from rollcall.models import Event, EventSession, Occurrence

SeatOwner = type[Event] | type[Occurrence] | type[EventSession]


@dataclass(frozen=True)
class SeatRow:
    """A row whose ``enrolled_count`` is bounded by a capacity.

    ``fallback`` is the event's max_subscriptions for an occurrence or session
    whose own capacity is None.
    """

    model: SeatOwner
    id: uuid.UUID
    fallback: int | None = None


def _capacity_expr(row: SeatRow) -> ColumnElement[int | None]:
    own = row.model.max_subscriptions if row.model is Event else row.model.capacity  # type: ignore[union-attr]
    if row.fallback is None or row.model is Event:
        return own  # type: ignore[no-any-return,return-value]
    return func.coalesce(own, literal(row.fallback))


def take_seat_at(session: Session, row: SeatRow) -> bool:
    """Take one seat at this level if one is free; True if taken."""
    cap = _capacity_expr(row)
    model = row.model
    result = session.execute(
        update(model)
        .where(model.id == row.id, or_(cap.is_(None), model.enrolled_count < cap))
        .values(enrolled_count=model.enrolled_count + 1)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined,no-any-return]


def take_seats(session: Session, rows: Sequence[SeatRow]) -> bool:
    """Take one seat at every level, or none: True if all were taken.

    A level that refuses undoes the levels already taken; their row locks are
    held until commit, so nobody saw the seat in between.
    """
    taken: list[SeatRow] = []
    for row in rows:
        if not take_seat_at(session, row):
            release_seats(session, taken)
            return False
        taken.append(row)
    return True


def release_seats(session: Session, rows: Sequence[SeatRow], count: int = 1) -> None:
    for row in rows:
        model = row.model
        # Never below zero: a counter that drifted is a bug to see, not to deepen.
        session.execute(
            update(model)
            .where(model.id == row.id, model.enrolled_count >= count)
            .values(enrolled_count=model.enrolled_count - count)
            .execution_options(synchronize_session=False)
        )


class _Counters(NamedTuple):
    """A counter row's statements, built once per kind of row."""

    lock: Any
    seats: Any
    waiting: Any


@lru_cache(maxsize=4)
def _counters(model: SeatOwner) -> _Counters:
    row_id = bindparam("row_id", type_=model.id.type)
    own_col = model.max_subscriptions if model is Event else model.capacity  # type: ignore[union-attr]
    change = update(model).where(model.id == row_id).execution_options(synchronize_session=False)
    return _Counters(
        lock=select(own_col, model.enrolled_count).where(model.id == row_id).with_for_update(),
        seats=change.values(enrolled_count=model.enrolled_count + bindparam("by", type_=Integer)),
        waiting=change.values(
            waitlisted_count=model.waitlisted_count + bindparam("by", type_=Integer)
        ),
    )


def add_seats(session: Session, rows: Sequence[SeatRow], count: int) -> None:
    """Add ``count`` taken seats at every level; only under ``lock_levels``."""
    if count <= 0:
        return
    for row in rows:
        session.execute(_counters(row.model).seats, {"row_id": row.id, "by": count})


def add_waitlisted_at(session: Session, row: SeatRow, delta: int) -> None:
    session.execute(_counters(row.model).waiting, {"row_id": row.id, "by": delta})


def lock_levels(session: Session, rows: Sequence[SeatRow]) -> list[Level]:
    """Lock the counter rows (in order) and read them as pure Levels."""
    levels = []
    for row in rows:
        own, enrolled = session.execute(_counters(row.model).lock, {"row_id": row.id}).one()
        levels.append(Level(capacity=effective_capacity(own, row.fallback), enrolled=enrolled))
    return levels
