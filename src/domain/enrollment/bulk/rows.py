"""Enrolling many rows at once, set-based: a bulk job's chunk, or a group of
single enroll jobs for one event (domain.enrollment.group).

A handful of statements per chunk: attendees looked up and inserted in bulk
(domain.enrollment.attendee_rows), active enrollments fetched at once, the seats granted
at once under the counter rows' locks (domain.enrollment.capacity.lock_levels), the rows
written in bulk (domain.enrollment.bulk.writes) and the calendar cache refreshed for the
attendees placed.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from rollcall.domain.access.scopes import Scope
from rollcall.domain.calendar.cache import refresh_calendar
from rollcall.domain.enrollment import capacity
from rollcall.domain.enrollment.admission import booking_span, enrollment_refusal
from rollcall.domain.enrollment.attendee_rows import batches, upsert_attendee_rows
from rollcall.domain.enrollment.bulk.writes import Placement, insert_enrollments
from rollcall.domain.enrollment.seating import may_enroll_more, seats_grantable
from rollcall.domain.errors import DomainError
from rollcall.domain.errors.enrollment import (
    AlreadyEnrolled,
    DuplicateRow,
    EventFull,
    MaxEnrollmentsReached,
)
from rollcall.models import Attendee, Enrollment, Event
from rollcall.models.enrollment import ACTIVE_STATUSES
from rollcall.models.sql_lists import among, among_parameter

__all__ = ["ChunkOutcome", "Placement", "enroll_rows", "mark_duplicates", "row_error"]


def row_error(row: dict[str, Any], error: DomainError) -> dict[str, Any]:
    """The per-row error shape: ``{row, attendee_ref, code, message}``."""
    return {
        "row": row["row"],
        "attendee_ref": row.get("ref"),
        "code": error.code,
        "message": error.message,
    }


def mark_duplicates(rows: Sequence[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """Pure: later rows repeating an earlier attendee ref fail with DUPLICATE_ROW.
    Returns {row number: error}."""
    seen: set[str] = set()
    failed: dict[int, dict[str, Any]] = {}
    for row in rows:
        if row["ref"] in seen:
            failed[row["row"]] = row_error(row, DuplicateRow())
        seen.add(row["ref"])
    return failed


@dataclass
class ChunkOutcome:
    enrolled: int = 0
    waitlisted: int = 0
    #: Row errors ``{row, attendee_ref, code, message}`` in row order.
    errors: list[dict[str, Any]] = field(default_factory=list)
    #: Row number -> where its attendee ended up; row number -> refusal made here.
    placed: dict[int, Placement] = field(default_factory=dict)
    refused: dict[int, DomainError] = field(default_factory=dict)


@lru_cache(maxsize=4)
def _active_query(dialect: str) -> Any:
    """The active enrollments in an event of some attendees, built once."""
    return select(Enrollment.attendee_id, Enrollment.scope_key).where(
        Enrollment.event_id == bindparam("event_id", type_=Enrollment.event_id.type),
        among_parameter(dialect, Enrollment.attendee_id, "people"),
        Enrollment.status.in_(ACTIVE_STATUSES),
    )


def _active_by_attendee(
    session: Session, *, event: Event, scope: Scope, attendee_ids: Sequence[uuid.UUID]
) -> tuple[set[uuid.UUID], dict[uuid.UUID, int]]:
    """(attendees active in this scope, active enrollments per attendee in the event)."""
    in_scope: set[uuid.UUID] = set()
    per_event: dict[uuid.UUID, int] = {}
    query = _active_query(session.get_bind().dialect.name)
    for batch in batches(list(attendee_ids)):
        for attendee_id, scope_key in session.execute(
            query, {"event_id": event.id, "people": list(batch)}
        ):
            per_event[attendee_id] = per_event.get(attendee_id, 0) + 1
            if scope_key == scope.key:
                in_scope.add(attendee_id)
    return in_scope, per_event


def enroll_rows(
    session: Session,
    *,
    event: Event,
    scope: Scope,
    rows: Sequence[dict[str, Any]],
    failed: dict[int, dict[str, Any]],
    now: datetime,
    requested_at: datetime,
    job_id: uuid.UUID,
) -> ChunkOutcome:
    """Apply one chunk of rows in the caller's transaction (the event row locked).

    ``failed`` holds rows already refused (invalid input, duplicates); their
    errors are reported in row order with the rest. Rows that pass are
    enrolled while seats last at every level, then waitlisted (or refused
    with EVENT_FULL without a waiting list), in row order. A row may carry its
    own ``job_id``, ``requested_at`` and ``request_seq`` (a group of single
    enroll jobs); otherwise the job's, and the row number, apply. Each
    attendee appears at most once among the rows not in ``failed``.
    """
    outcome = ChunkOutcome()
    refused = outcome.refused
    # The one rule (domain.enrollment.booking_window): the state, the window
    # over the span booked, and no seat in a span that has ended.
    refusal = enrollment_refusal(
        event, span=booking_span(session, event=event, scope=scope), now=now
    )
    candidates = [row for row in rows if row["row"] not in failed]
    if refusal is not None:
        refused.update({row["row"]: refusal for row in candidates})
        candidates = []
    people = upsert_attendee_rows(
        session,
        organisation_id=event.organisation_id,
        rows=candidates,
        now=now,
        requested_at=requested_at,
    )
    ids = list(people.values())
    if event.max_per_attendee is not None and ids:
        _lock_attendees(session, ids)
    eligible = _eligible(
        session, event=event, scope=scope, rows=candidates, people=people, refused=refused
    )
    seated, rest = _take_seats(
        session, event=event, scope=scope, eligible=eligible, refused=refused
    )
    outcome.placed = insert_enrollments(
        session,
        event=event,
        scope=scope,
        seated=seated,
        waiting=rest,
        people=people,
        now=now,
        requested_at=requested_at,
        job_id=job_id,
    )
    if outcome.placed:
        # The calendar cache moves with the enrollments: no ORM flush saw them.
        refresh_calendar(
            session.connection(),
            pairs={(event.id, people[row["ref"]]) for row in [*seated, *rest]},
            locked=[event.id],
        )
    outcome.enrolled, outcome.waitlisted = len(seated), len(rest)
    outcome.errors = _row_errors(rows, failed, refused)
    return outcome


def _lock_attendees(session: Session, ids: Sequence[uuid.UUID]) -> None:
    """Lock the attendees before counting: one attendee's requests in two
    events' transactions are counted one after the other."""
    dialect = session.get_bind().dialect.name
    for batch in batches(sorted(ids)):
        session.execute(
            select(Attendee.id)
            .where(among(dialect, Attendee.id, batch))
            .order_by(Attendee.id)
            .with_for_update()
        )


def _eligible(
    session: Session,
    *,
    event: Event,
    scope: Scope,
    rows: Sequence[dict[str, Any]],
    people: dict[str, uuid.UUID],
    refused: dict[int, DomainError],
) -> list[dict[str, Any]]:
    """The rows whose attendee may enroll once more, in order; the others are
    refused (already in this scope, or at the event's per-attendee maximum)."""
    in_scope, per_event = _active_by_attendee(
        session, event=event, scope=scope, attendee_ids=list(people.values())
    )
    eligible: list[dict[str, Any]] = []
    for row in rows:
        attendee_id = people[row["ref"]]
        if attendee_id in in_scope:
            refused[row["row"]] = AlreadyEnrolled(attendee_ref=row["ref"])
        elif not may_enroll_more(event.max_per_attendee, per_event.get(attendee_id, 0)):
            refused[row["row"]] = MaxEnrollmentsReached(max_per_attendee=event.max_per_attendee)
        else:
            eligible.append(row)
    return eligible


def _take_seats(
    session: Session,
    *,
    event: Event,
    scope: Scope,
    eligible: list[dict[str, Any]],
    refused: dict[int, DomainError],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(seated, waiting): seats granted while they last at every level, under
    the counter rows' locks, the rest waitlisted, or refused with EVENT_FULL
    when the event has no waiting list. The counters move here."""
    levels = capacity.lock_levels(session, scope.rows)
    granted = seats_grantable(levels, len(eligible))
    seated, rest = eligible[:granted], eligible[granted:]
    if rest and not event.waiting_list:
        full = EventFull(max_subscriptions=event.max_subscriptions)
        refused.update({row["row"]: full for row in rest})
        rest = []
    capacity.add_seats(session, scope.rows, len(seated))
    if rest:
        capacity.add_waitlisted_at(session, scope.rows[0], len(rest))
    return seated, rest


def _row_errors(
    rows: Sequence[dict[str, Any]],
    failed: dict[int, dict[str, Any]],
    refused: dict[int, DomainError],
) -> list[dict[str, Any]]:
    """Every row error, in row order: those refused before and those refused here."""
    by_number = {row["row"]: row for row in rows}
    errors = {number: failed[number] for number in by_number if number in failed}
    errors.update({number: row_error(by_number[number], e) for number, e in refused.items()})
    return [errors[number] for number in sorted(errors)]
