"""Reading enrollments: per event (status filter, keyset cursor), per attendee,
and the orphan payments left by removals (seed 003: surfaced for monitoring)."""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from rollcall.domain.bounds import INT32_MAX, INT32_MIN, near_window
from rollcall.domain.enrollment.waitlist import waitlist_position
from rollcall.domain.errors import InvalidCursor
from rollcall.domain.errors.enrollment import AttendeeNotFound
from rollcall.models import Attendee, Enrollment, Event, Job, Payment
from rollcall.models.enrollment import ACTIVE_STATUSES

MAX_PAGE = 200


@dataclass(frozen=True)
class Cursor:
    """Where a page ends, in waiting-list order (requested_at, request_seq, id)."""

    requested_at: datetime
    request_seq: int
    id: uuid.UUID

    def encode(self) -> str:
        raw = json.dumps([self.requested_at.isoformat(), self.request_seq, str(self.id)])
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            at, seq, ident = json.loads(raw)
            moment = datetime.fromisoformat(at)
            # A cursor we made holds stored, hence bounded, values: anything else was edited.
            if moment.tzinfo is None or not near_window(moment):
                raise ValueError("not a moment this API stores")
            if type(seq) is not int or not INT32_MIN <= seq <= INT32_MAX:
                raise ValueError("not a row number this API stores")
            return cls(moment, seq, uuid.UUID(ident))
        except (ValueError, TypeError, json.JSONDecodeError):
            raise InvalidCursor() from None

    @classmethod
    def after(cls, enrollment: Enrollment) -> Cursor:
        return cls(enrollment.requested_at, enrollment.request_seq, enrollment.id)


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
        c = Cursor.decode(after)
        query = query.where(
            or_(
                Enrollment.requested_at > c.requested_at,
                and_(
                    Enrollment.requested_at == c.requested_at,
                    or_(
                        Enrollment.request_seq > c.request_seq,
                        and_(Enrollment.request_seq == c.request_seq, Enrollment.id > c.id),
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
    next_cursor = Cursor.after(page[-1]).encode() if len(rows) > limit else None
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


def orphan_payment_counts(
    session: Session,
    *,
    organisation_id: uuid.UUID | None = None,
    attendee_id: uuid.UUID | None = None,
) -> dict[tuple[uuid.UUID, uuid.UUID], int]:
    """{(attendee_id, event_id): payments whose enrollment is no longer active},
    for one organisation or (None) all of them: what a metric exports."""
    active = select(Enrollment.id).where(
        Enrollment.id == Payment.enrollment_id, Enrollment.status.in_(ACTIVE_STATUSES)
    )
    query = (
        select(Payment.attendee_id, Payment.event_id, func.count())
        .where(~active.exists())
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
