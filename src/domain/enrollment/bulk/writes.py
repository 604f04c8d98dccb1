"""Writing many placed enrollments at once: the enrollment rows and the zero
payments of seats (COPY on PostgreSQL), and one outbox message for their mails.

Per seat one ``manual_enrolled`` payment (seed 003); per row one confirmation
or waiting-list mail, written and sent after commit by the mail worker from
the one ``send_placement_mails`` message (domain.enrollment.placement_mails).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import func, select, true
from sqlalchemy.orm import Session

from rollcall.domain.access.scopes import Scope
from rollcall.domain.enrollment.placement_mails import PLACEMENT_MAILS_ACTOR, placement_item
from rollcall.domain.enrollment.waitlist import manual_payment_row
from rollcall.domain.jobs.outbox import add_message
from rollcall.domain.webhooks.causes import record_placements
from rollcall.models import Enrollment, Event, Payment
from rollcall.models.base import new_id
from rollcall.models.bulk_insert import insert_rows
from rollcall.models.mail import next_order_key

#: Above this many new waiting rows, exclude them by count, not by an id list.
_ID_LIST_LIMIT = 1_000


@dataclass(frozen=True)
class Placement:
    """Where one row's attendee ended up."""

    enrollment_id: uuid.UUID
    attendee_ref: str
    status: str
    waitlist_position: int | None


class _Planned(NamedTuple):
    """One row's enrollment, decided before anything is written."""

    row: dict[str, Any]
    attendee_id: uuid.UUID
    status: str
    id: uuid.UUID
    requested_at: datetime
    request_seq: int
    job_id: uuid.UUID


def insert_enrollments(
    session: Session,
    *,
    event: Event,
    scope: Scope,
    seated: Sequence[dict[str, Any]],
    waiting: Sequence[dict[str, Any]],
    people: dict[str, uuid.UUID],
    now: datetime,
    requested_at: datetime,
    job_id: uuid.UUID,
) -> dict[int, Placement]:
    """Write the rows of ``seated`` (enrolled) and ``waiting`` (waitlisted);
    returns each row's placement by row number.

    The rows of each table are generated while COPY sends them, so building
    them overlaps with the server taking them in."""
    planned = _plan(seated, waiting, people=people, requested_at=requested_at, job_id=job_id)
    if not planned:
        return {}
    # After the seat counters' locks: this placement's mails come before those
    # of any later change of these enrollments (models.mail.next_order_key).
    mail_key = next_order_key(session)
    insert_rows(
        session,
        Enrollment,
        _enrollment_rows(planned, event=event, scope=scope, now=now, mail_key=mail_key),
    )
    positions = _waitlist_positions(
        session,
        event=event,
        scope=scope,
        new=[
            ((p.requested_at, p.request_seq, p.id), p.id) for p in planned if p.status != "enrolled"
        ],
    )
    insert_rows(
        session,
        Payment,
        (
            manual_payment_row(event, p.attendee_id, p.id, now)
            for p in planned
            if p.status == "enrolled"
        ),
    )
    placed = {
        p.row["row"]: Placement(p.id, p.row["ref"], p.status, positions.get(p.id)) for p in planned
    }
    _send_placement_mails(session, placed.values(), now=now)
    jobs = {p.id: p.job_id for p in planned}
    record_placements(
        session,
        event=event,
        occurrence_id=scope.occurrence_id,
        session_id=scope.session_id,
        placements=(
            (
                p.enrollment_id,
                p.attendee_ref,
                p.status,
                p.waitlist_position,
                jobs.get(p.enrollment_id),
            )
            for p in placed.values()
        ),
        now=now,
    )
    return placed


def _plan(
    seated: Sequence[dict[str, Any]],
    waiting: Sequence[dict[str, Any]],
    *,
    people: dict[str, uuid.UUID],
    requested_at: datetime,
    job_id: uuid.UUID,
) -> list[_Planned]:
    """Each row's enrollment, seated rows first: a row's own acceptance stamp
    and job (single enroll jobs in a group) or the request's (bulk)."""
    return [
        _Planned(
            row,
            people[row["ref"]],
            status,
            new_id(),
            row.get("requested_at", requested_at),
            row.get("request_seq", row["row"]),
            row.get("job_id", job_id),
        )
        for rows, status in ((seated, "enrolled"), (waiting, "waitlisted"))
        for row in rows
    ]


def _enrollment_rows(
    planned: Sequence[_Planned], *, event: Event, scope: Scope, now: datetime, mail_key: int
) -> Iterator[dict[str, Any]]:
    """The enrollment rows, generated while COPY sends them."""
    org, event_id = event.organisation_id, event.id
    for p in planned:
        yield {
            "id": p.id,
            "organisation_id": org,
            "event_id": event_id,
            "occurrence_id": scope.occurrence_id,
            "session_id": scope.session_id,
            "attendee_id": p.attendee_id,
            "scope_key": scope.key,
            "status": p.status,
            "requested_at": p.requested_at,
            "request_seq": p.request_seq,
            "enrolled_at": now if p.status == "enrolled" else None,
            "job_id": p.job_id,
            "created_at": now,
            "updated_at": now,
            "mail_key": mail_key,
        }


def _send_placement_mails(
    session: Session, placements: Iterable[Placement], *, now: datetime
) -> None:
    """One message names every placement: the mail worker writes and sends
    their mails after commit (domain.enrollment.placement_mails), outside the
    event lock."""
    add_message(
        session,
        actor=PLACEMENT_MAILS_ACTOR,
        args=[[placement_item(p.enrollment_id, p.status, p.waitlist_position) for p in placements]],
        now=now,
    )


def _waitlist_positions(
    session: Session,
    *,
    event: Event,
    scope: Scope,
    new: Sequence[tuple[tuple[datetime, int, uuid.UUID], uuid.UUID]],
) -> dict[uuid.UUID, int]:
    """1-based places of the new waitlisted enrollments (already inserted), in
    ``(requested_at, request_seq, id)`` order, as domain.enrollment.waitlist counts them.
    Counted at once when every new request came after every one already
    waiting (the usual case); ranked in SQL otherwise."""
    if not new:
        return {}
    ordered = sorted(new)
    new_ids = [enrollment_id for _key, enrollment_id in ordered]
    earliest = ordered[0][0][0]
    waiting = (
        Enrollment.event_id == event.id,
        Enrollment.scope_key == scope.key,
        Enrollment.status == "waitlisted",
    )
    few = len(new_ids) <= _ID_LIST_LIMIT
    before, later = session.execute(
        select(
            func.count().filter(Enrollment.requested_at < earliest),
            func.count().filter(Enrollment.requested_at >= earliest),
        ).where(*waiting, Enrollment.id.not_in(new_ids) if few else true())
    ).one()
    if not few:
        later -= len(new_ids)
    if not later:
        return {enrollment_id: before + i + 1 for i, enrollment_id in enumerate(new_ids)}
    place = func.row_number().over(
        order_by=(Enrollment.requested_at, Enrollment.request_seq, Enrollment.id)
    )
    ranked = select(Enrollment.id, place.label("place")).where(*waiting).subquery()
    wanted = set(new_ids)
    return {
        enrollment_id: int(number)
        for enrollment_id, number in session.execute(select(ranked.c.id, ranked.c.place))
        if enrollment_id in wanted
    }
