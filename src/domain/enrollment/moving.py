"""Moving an enrollment to another occurrence or session of the same event.

One transaction, under the event's row lock (the first lock of every seat
change, so a move serialises with enroll groups, removals and other moves of
the event): the seat is taken at the target first, then given up at the
source, whose first waitlisted attendee is promoted at once. The enrollment
row itself moves (same id, same ``manual_enrolled`` payment): a move never
leaves the orphan payment that remove-then-re-enroll leaves (seed 003).

What a full target does (the rule of ``move_decision``): a move never makes the
attendee worse off. A seat moves to a seat or not at all (MOVE_TARGET_FULL,
nothing changes); a waiting-list place moves to a seat if the target has one
free, else to the end of the target's waiting list. A target with people
waiting counts as full: a move never overtakes them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from rollcall.domain.access.scopes import Scope, scope_of_key
from rollcall.domain.enrollment import capacity
from rollcall.domain.enrollment.admission import booking_span, enrollment_refusal
from rollcall.domain.enrollment.capacity import SeatRow
from rollcall.domain.enrollment.mail import queue_moved_mail
from rollcall.domain.enrollment.waitlist import manual_payment_row, promote_waitlisted
from rollcall.domain.errors.enrollment import (
    AlreadyEnrolled,
    EnrollmentNotFound,
    MoveSameScope,
    MoveTargetFull,
)
from rollcall.domain.webhooks.causes import record_enrollment
from rollcall.models import Attendee, Enrollment, Event, EventSession, Occurrence, Payment
from rollcall.models.enrollment import ACTIVE_STATUSES

MoveOutcome = Literal["seated", "waitlisted", "full"]


def move_decision(*, holds_seat: bool, seat_free: bool, waiting_list: bool) -> MoveOutcome:
    """Pure: where a move ends. ``seat_free``: the target has a seat at every
    level it does not share with the source, and nobody waiting."""
    if seat_free:
        return "seated"
    if not holds_seat and waiting_list:
        return "waitlisted"
    return "full"


@dataclass(frozen=True)
class Moved:
    enrollment: Enrollment
    from_scope: str
    #: Its status before the move ("enrolled" or "waitlisted").
    was: str
    promoted: list[Enrollment]


def _waiting_at(session: Session, row: SeatRow) -> int:
    model = row.model
    return int(session.scalar(select(model.waitlisted_count).where(model.id == row.id)) or 0)


def _lock_order(source: Scope, target: Scope) -> list[SeatRow]:
    """Every counter row of both scopes once: occurrence and session rows by id,
    the event row last (the order of capacity: session before event)."""
    rows = {row.id: row for row in (*source.rows, *target.rows)}
    return sorted(rows.values(), key=lambda r: (r.model is Event, str(r.id)))


def move_enrollment(
    session: Session,
    *,
    event: Event,
    enrollment_id: uuid.UUID,
    target: Scope,
    now: datetime,
    requested_at: datetime,
    job_id: uuid.UUID | None = None,
) -> Moved:
    """Move an active enrollment of ``event`` (its row locked by the caller) to
    ``target``; queues the attendee's one ``enrollment_moved`` mail and the
    promoted attendees' mails. ``requested_at`` (when the move was accepted) is
    the place of a waiting-list place moved to the end of the target's line.

    Raises EnrollmentNotFound (none, or no longer active), MoveSameScope,
    AlreadyEnrolled (the attendee already holds a place at the target),
    MoveTargetFull, RegistrationClosed (also: the target occurrence has ended)
    or the event's refusal (cancelled, completed, not published).
    """
    current = session.get(Enrollment, enrollment_id)
    if current is None or current.event_id != event.id:
        raise EnrollmentNotFound(id=str(enrollment_id))
    if current.scope_key == target.key:
        raise MoveSameScope(scope=target.key)
    # The one booking rule (domain.enrollment.booking_window), over the
    # target: its window, and no move into a date that has ended.
    span = booking_span(session, event=event, scope=target)
    refusal = enrollment_refusal(event, span=span, now=now)
    if refusal is not None:
        raise refusal
    source = scope_of_key(event, current.scope_key)
    # Counter rows, then the enrollment row: the lock order of every seat change.
    capacity.lock_levels(session, _lock_order(source, target))
    enrollment = session.execute(
        select(Enrollment)
        .where(Enrollment.id == enrollment_id)
        .with_for_update(of=Enrollment)
        .execution_options(populate_existing=True)
    ).scalar_one()
    if enrollment.status not in ACTIVE_STATUSES:
        raise EnrollmentNotFound(id=str(enrollment_id), status=enrollment.status)
    taken = session.scalar(
        select(Enrollment.id).where(
            Enrollment.event_id == event.id,
            Enrollment.attendee_id == enrollment.attendee_id,
            Enrollment.scope_key == target.key,
            Enrollment.status.in_(ACTIVE_STATUSES),
        )
    )
    if taken is not None:
        raise AlreadyEnrolled(attendee_ref=enrollment.attendee.ref, scope=target.key)

    was = enrollment.status
    holds_seat = was == "enrolled"
    # A seat already held at a shared level (the event row of two sessions) stays.
    gained = [r for r in target.rows if not holds_seat or r not in source.rows]
    freed = [r for r in source.rows if r not in target.rows] if holds_seat else []
    seat_free = _waiting_at(session, target.rows[0]) == 0 and capacity.take_seats(session, gained)
    outcome = move_decision(
        holds_seat=holds_seat, seat_free=seat_free, waiting_list=event.waiting_list
    )
    if outcome == "full":
        raise MoveTargetFull(scope=target.key, status=was)

    from_occurrence = enrollment.occurrence_id
    from_session = enrollment.session_id
    enrollment.scope_key = target.key
    enrollment.occurrence_id = target.occurrence_id
    enrollment.session_id = target.session_id
    enrollment.updated_at = now
    enrollment.job_id = job_id
    promoted: list[Enrollment] = []
    if holds_seat:
        capacity.release_seats(session, freed)
        session.flush()
        promoted = promote_waitlisted(
            session, event=event, scope_key=source.key, now=now, job_id=job_id
        )
    else:
        capacity.add_waitlisted_at(session, source.rows[0], -1)
        if outcome == "seated":
            # A place in line becomes a seat: its comp payment, as a promotion has.
            enrollment.status = "enrolled"
            enrollment.enrolled_at = now
            session.add(
                Payment(**manual_payment_row(event, enrollment.attendee_id, enrollment.id, now))
            )
        else:
            # The end of the target's line: a move never overtakes those waiting there.
            enrollment.requested_at = requested_at
            enrollment.request_seq = 0
            capacity.add_waitlisted_at(session, target.rows[0], 1)
    session.flush()
    attendee = session.get(Attendee, enrollment.attendee_id)
    assert attendee is not None
    queue_moved_mail(
        session,
        event=event,
        attendee=attendee,
        enrollment=enrollment,
        was={
            "status": was,
            **_place(session, from_occurrence, from_session),
        },
        now=now,
        job_id=job_id,
    )
    record_enrollment(
        session,
        outcome="moved",
        event=event,
        enrollment=enrollment,
        attendee_ref=attendee.ref,
        now=now,
        job_id=job_id,
    )
    return Moved(enrollment=enrollment, from_scope=source.key, was=was, promoted=promoted)


def _place(
    session: Session, occurrence_id: uuid.UUID | None, session_id: uuid.UUID | None
) -> dict[str, str | None]:
    """What the mail says about where the enrollment was (every key, maybe None)."""
    place: dict[str, str | None] = {"starts_at": None, "ends_at": None, "session": None}
    if occurrence_id is not None:
        occurrence = session.get(Occurrence, occurrence_id)
        if occurrence is not None:
            place["starts_at"] = occurrence.starts_at.isoformat()
            place["ends_at"] = occurrence.ends_at.isoformat()
    if session_id is not None:
        part = session.get(EventSession, session_id)
        if part is not None:
            place["session"] = part.name
    return place
