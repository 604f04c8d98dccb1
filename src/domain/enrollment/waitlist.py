"""The waiting list: positions, and promotion into freed (or added) seats."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from rollcall.domain.access.scopes import scope_of_key
from rollcall.domain.enrollment import capacity
from rollcall.domain.enrollment.mail import queue_enrollment_mail
from rollcall.domain.webhooks.causes import record_enrollment
from rollcall.models import Attendee, Enrollment, Event, Payment
from rollcall.models.base import new_id

#: Candidates lost to a concurrent cancel before giving the seat back.
_MAX_CANDIDATE_TRIES = 20


def waitlist_order() -> tuple[object, ...]:
    return (Enrollment.requested_at, Enrollment.request_seq, Enrollment.id)


def waitlist_position(session: Session, enrollment: Enrollment) -> int | None:
    """1-based place on the waiting list, by when the request was accepted."""
    if enrollment.status != "waitlisted":
        return None
    ahead = session.scalar(
        select(func.count())
        .select_from(Enrollment)
        .where(
            Enrollment.event_id == enrollment.event_id,
            Enrollment.scope_key == enrollment.scope_key,
            Enrollment.status == "waitlisted",
            or_(
                Enrollment.requested_at < enrollment.requested_at,
                and_(
                    Enrollment.requested_at == enrollment.requested_at,
                    or_(
                        Enrollment.request_seq < enrollment.request_seq,
                        and_(
                            Enrollment.request_seq == enrollment.request_seq,
                            Enrollment.id < enrollment.id,
                        ),
                    ),
                ),
            ),
        )
    )
    return int(ahead or 0) + 1


def manual_payment_row(
    event: Event, attendee_id: uuid.UUID, enrollment_id: uuid.UUID, now: datetime
) -> dict[str, Any]:
    """The comp seat's zero payment (seed 003): never revenue, kept on removal.
    The one place it is spelled, for ``Payment(**row)`` and bulk inserts alike."""
    return {
        "id": new_id(),
        "organisation_id": event.organisation_id,
        "event_id": event.id,
        "attendee_id": attendee_id,
        "enrollment_id": enrollment_id,
        "state": "manual_enrolled",
        "amount": Decimal("0"),
        "created_at": now,
    }


def _claim_first_waitlisted(
    session: Session, *, event_id: uuid.UUID, scope_key: str, now: datetime
) -> uuid.UUID | None:
    """Flip the first waitlisted enrollment to enrolled; its id, or None if none.

    Select, then a conditional UPDATE: a candidate cancelled concurrently fails
    the ``status = 'waitlisted'`` test and the next one is tried.
    """
    for _ in range(_MAX_CANDIDATE_TRIES):
        candidate = session.scalar(
            select(Enrollment.id)
            .where(
                Enrollment.event_id == event_id,
                Enrollment.scope_key == scope_key,
                Enrollment.status == "waitlisted",
            )
            .order_by(*waitlist_order())  # type: ignore[arg-type]
            .limit(1)
        )
        if candidate is None:
            return None
        claimed = session.execute(
            update(Enrollment)
            .where(Enrollment.id == candidate, Enrollment.status == "waitlisted")
            .values(status="enrolled", enrolled_at=now, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount == 1:  # type: ignore[attr-defined]
            return uuid.UUID(str(candidate))
    return None


def promote_waitlisted(
    session: Session,
    *,
    event: Event,
    scope_key: str,
    now: datetime,
    job_id: uuid.UUID | None = None,
) -> list[Enrollment]:
    """Fill every free seat of the scope from its waiting list, first come first.

    Call it in the transaction that frees a seat or raises a capacity. Each
    promoted attendee gets a seat at every level, a zero payment and the
    ``enrollment_promoted`` mail (queued, sent after commit). The seat is taken
    first (the counter row's lock serialises promoters), then the first
    waitlisted is claimed, so one freed seat goes to exactly one attendee.
    """
    if event.cancelled or event.status == "completed":
        return []
    scope = scope_of_key(event, scope_key)
    promoted: list[Enrollment] = []
    while capacity.take_seats(session, scope.rows):
        enrollment_id = _claim_first_waitlisted(
            session, event_id=event.id, scope_key=scope_key, now=now
        )
        if enrollment_id is None:
            capacity.release_seats(session, scope.rows)
            break
        capacity.add_waitlisted_at(session, scope.rows[0], -1)
        enrollment = session.get(Enrollment, enrollment_id, populate_existing=True)
        assert enrollment is not None
        attendee = session.get(Attendee, enrollment.attendee_id)
        assert attendee is not None
        session.add(Payment(**manual_payment_row(event, attendee.id, enrollment.id, now)))
        queue_enrollment_mail(
            session,
            outcome="promoted",
            event=event,
            attendee=attendee,
            enrollment=enrollment,
            now=now,
            job_id=job_id,
        )
        record_enrollment(
            session,
            outcome="promoted",
            event=event,
            enrollment=enrollment,
            attendee_ref=attendee.ref,
            now=now,
            job_id=job_id,
        )
        promoted.append(enrollment)
    return promoted
