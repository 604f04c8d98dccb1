"""Reading enrollments: per event (status filter, keyset cursor), per attendee,
and the orphan payments left by removals (seed 003: surfaced for monitoring)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from rollcall.domain.enrollment.waitlist import waitlist_position
from rollcall.domain.errors.enrollment import AttendeeNotFound
from rollcall.domain.pagination import decode_seq_cursor, encode_cursor
from rollcall.models import Attendee, Enrollment, Event, Job, Payment
from rollcall.models.enrollment import ACTIVE_STATUSES

MAX_PAGE = 200


@dataclass(frozen=True)
class Listed:
    enrollment: Enrollment
    waitlist_position: int | None


def list_event_enrollments(
    session: Session,
    *,
    event: Event,
    statuses: list[str] | None,
    after: str | None,
    limit: int,
) -> tuple[list[Listed], str | None]:
    """One page of the event's enrollments in arrival order; (items, next cursor).

    Raises InvalidCursor for a cursor this function did not produce.
    """
    query = select(Enrollment).where(Enrollment.event_id == event.id)
    if statuses:
        query = query.where(Enrollment.status.in_(statuses))
    if after:
        requested_at, request_seq, last_id = decode_seq_cursor(after)
        query = query.where(
            or_(
                Enrollment.requested_at > requested_at,
                and_(
                    Enrollment.requested_at == requested_at,
                    or_(
                        Enrollment.request_seq > request_seq,
                        and_(Enrollment.request_seq == request_seq, Enrollment.id > last_id),
                    ),
                ),
            )
        )
    limit = max(1, min(limit, MAX_PAGE))
    rows = session.scalars(
        query.order_by(Enrollment.requested_at, Enrollment.request_seq, Enrollment.id).limit(
            limit + 1
        )
    ).all()
    page = list(rows[:limit])
    next_cursor = None
    if len(rows) > limit:
        last = page[-1]
        next_cursor = encode_cursor(last.requested_at, last.request_seq, last.id)
    return [Listed(e, waitlist_position(session, e)) for e in page], next_cursor


def current_result(session: Session, job: Job) -> dict[str, Any] | None:
    """A job's result, with the enrollment it names as that is now.

    The status and waiting-list place a job stored when it finished go stale
    as soon as someone ahead leaves the line (a removal or cancellation
    promotes the first waiting). So they are derived when read: the status of
    the row, and the rank among the waitlisted by acceptance order, as every
    list shows it. A result naming no enrollment is returned as stored."""
    result = job.result
    if not result or "enrollment_id" not in result or "waitlist_position" not in result:
        return result
    try:
        enrollment = session.get(Enrollment, uuid.UUID(str(result["enrollment_id"])))
    except ValueError:
        return result
    if enrollment is None:  # its event was deleted
        return result
    return result | {
        "status": enrollment.status,
        "waitlist_position": waitlist_position(session, enrollment),
    }


def orphaned() -> ColumnElement[bool]:
    """A payment is an orphan when its enrollment is gone or no longer enrolled
    or waitlisted (seed 003: removal keeps the payment)."""
    active = select(Enrollment.id).where(
        Enrollment.id == Payment.enrollment_id, Enrollment.status.in_(ACTIVE_STATUSES)
    )
    return ~active.exists()


def orphan_payment_counts(
    session: Session,
    *,
    organisation_id: uuid.UUID | None = None,
    attendee_id: uuid.UUID | None = None,
) -> dict[tuple[uuid.UUID, uuid.UUID], int]:
    """{(attendee_id, event_id): orphan payments}, for one organisation or
    (None) all of them."""
    query = (
        select(Payment.attendee_id, Payment.event_id, func.count())
        .where(orphaned())
        .group_by(Payment.attendee_id, Payment.event_id)
    )
    if organisation_id is not None:
        query = query.where(Payment.organisation_id == organisation_id)
    if attendee_id is not None:
        query = query.where(Payment.attendee_id == attendee_id)
    return {(a, e): int(n) for a, e, n in session.execute(query)}


def attendee_enrollments(
    session: Session, *, organisation_id: uuid.UUID, ref: str
) -> tuple[Attendee, list[Listed], dict[uuid.UUID, int]]:
    """The attendee, all their enrollments (newest first) and orphan payments per
    event. Raises AttendeeNotFound."""
    attendee = session.scalar(
        select(Attendee).where(Attendee.organisation_id == organisation_id, Attendee.ref == ref)
    )
    if attendee is None:
        raise AttendeeNotFound(ref=ref)
    enrollments = session.scalars(
        select(Enrollment)
        .where(Enrollment.attendee_id == attendee.id)
        .order_by(Enrollment.created_at.desc(), Enrollment.id)
    ).all()
    orphans = orphan_payment_counts(
        session, organisation_id=organisation_id, attendee_id=attendee.id
    )
    return (
        attendee,
        [Listed(e, waitlist_position(session, e)) for e in enrollments],
        {event_id: n for (_a, event_id), n in orphans.items()},
    )


@dataclass(frozen=True)
class JobEnrollment:
    id: uuid.UUID
    event_id: uuid.UUID
    attendee_ref: str
    status: str
    waitlist_position: int | None


def job_enrollments(
    session: Session, *, event_id: uuid.UUID, job_id: uuid.UUID
) -> list[JobEnrollment]:
    """The enrollments a job (a bulk enrollment) made on its event, in arrival
    order, each with its waiting-list place as it is now: one statement, the
    places ranked as ``waitlist_position`` counts them (by acceptance order
    within the enrollment's scope)."""
    place = (
        func.row_number()
        .over(
            partition_by=Enrollment.scope_key,
            order_by=(Enrollment.requested_at, Enrollment.request_seq, Enrollment.id),
        )
        .label("place")
    )
    waiting = (
        select(Enrollment.id, place)
        .where(Enrollment.event_id == event_id, Enrollment.status == "waitlisted")
        .subquery()
    )
    rows = session.execute(
        select(
            Enrollment.id,
            Enrollment.event_id,
            Attendee.ref,
            Enrollment.status,
            waiting.c.place,
        )
        .join(Attendee, Attendee.id == Enrollment.attendee_id)
        .outerjoin(waiting, waiting.c.id == Enrollment.id)
        .where(Enrollment.event_id == event_id, Enrollment.job_id == job_id)
        .order_by(Enrollment.requested_at, Enrollment.request_seq, Enrollment.id)
    ).all()
    return [
        JobEnrollment(
            id=row[0],
            event_id=row[1],
            attendee_ref=row[2],
            status=row[3],
            waitlist_position=int(row[4]) if row[3] == "waitlisted" and row[4] else None,
        )
        for row in rows
    ]
