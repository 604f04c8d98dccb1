"""An event's roster, read as a stream: one statement, rows fetched in batches.

The waiting-list position is the database's ``row_number()`` over the
waitlisted rows of each booking scope, in the line's order
(``waitlist.waitlist_order``), the same place ``waitlist_position`` counts one
by one. ``yield_per`` makes psycopg use a server-side cursor, so the web
process holds one batch, never the roster.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from typing import Any, cast

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from rollcall.domain.enrollment.waitlist import waitlist_order
from rollcall.models import Attendee, Enrollment, EventSession, Occurrence

ROSTER_HEADER = (
    "attendee_ref",
    "email",
    "name",
    "status",
    "waitlist_position",
    "occurrence_id",
    "occurrence_starts_at",
    "session_id",
    "session_name",
    "requested_at",
    "enrolled_at",
    "ended_at",
)

#: Rows per fetch from the database cursor.
BATCH = 1000


def iter_roster(
    session: Session,
    *,
    organisation_id: uuid.UUID,
    event_id: uuid.UUID,
    batch: int | None = None,
) -> Iterator[Sequence[object]]:
    """Every enrollment of the event (all statuses), in arrival order, as
    ROSTER_HEADER's columns. The caller keeps ``session`` open while iterating."""
    line = cast("tuple[ColumnElement[Any], ...]", waitlist_order())
    position = case(
        (
            Enrollment.status == "waitlisted",
            func.row_number().over(
                partition_by=(Enrollment.scope_key, Enrollment.status),
                order_by=line,
            ),
        ),
        else_=None,
    )
    statement = (
        select(
            Attendee.ref,
            Attendee.email,
            Attendee.name,
            Enrollment.status,
            position,
            Enrollment.occurrence_id,
            Occurrence.starts_at,
            Enrollment.session_id,
            EventSession.name,
            Enrollment.requested_at,
            Enrollment.enrolled_at,
            Enrollment.ended_at,
        )
        .join(Attendee, Attendee.id == Enrollment.attendee_id)
        .outerjoin(Occurrence, Occurrence.id == Enrollment.occurrence_id)
        .outerjoin(EventSession, EventSession.id == Enrollment.session_id)
        .where(Enrollment.event_id == event_id, Enrollment.organisation_id == organisation_id)
        .order_by(*line)
        .execution_options(yield_per=batch or BATCH)
    )
    for row in session.execute(statement):
        yield tuple(row)
