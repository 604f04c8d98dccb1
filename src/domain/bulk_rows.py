"""Bulk enrollment, one chunk of rows at a time, set-based.

A handful of statements per chunk: attendees looked up and inserted in bulk,
active enrollments fetched at once, the seats granted at once under the
counter rows' locks (domain.capacity.lock_levels), and enrollments, payments,
mails and outbox rows inserted in bulk (models.bulk_insert: COPY on PostgreSQL).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from domain import capacity
from domain.enrollment import enrollment_refusal
from domain.errors import (
    AlreadyEnrolled,
    DomainError,
    DuplicateRow,
    EventFull,
    MaxEnrollmentsReached,
)
from domain.mail import SEND_EMAIL_ACTOR, event_context
from domain.outbox import PENDING_KEY
from domain.scopes import Scope
from domain.seating import may_enroll_more, seats_grantable
from models import (
    Attendee,
    EmailMessage,
    Enrollment,
    Event,
    Occurrence,
    OutboxMessage,
    Payment,
)
from models.bulk_insert import insert_rows
from models.enrollment import ACTIVE_STATUSES

_IN_BATCH = 1_000


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
    errors: list[dict[str, Any]] = field(default_factory=list)


def _batches(values: Sequence[Any], size: int = _IN_BATCH) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _upsert_attendees(
    session: Session, *, organisation_id: uuid.UUID, rows: Sequence[dict[str, Any]], now: datetime
) -> dict[str, uuid.UUID]:
    """Attendee id per ref: existing ones brought up to date, missing ones inserted.

    Reads plain tuples, not ORM objects: at 10,000 rows the identity map costs
    more than the queries.
    """
    fields = ("email", "name", "timezone", "locale")
    refs = [row["ref"] for row in rows]
    found: dict[str, tuple[Any, ...]] = {}
    for batch in _batches(refs):
        for found_row in session.execute(
            select(
                Attendee.ref,
                Attendee.id,
                Attendee.email,
                Attendee.name,
                Attendee.timezone,
                Attendee.locale,
            ).where(Attendee.organisation_id == organisation_id, Attendee.ref.in_(batch))
        ):
            found[found_row[0]] = tuple(found_row[1:])
    fresh: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    ids: dict[str, uuid.UUID] = {}
    for row in rows:
        existing = found.get(row["ref"])
        if existing is None:
            new = {
                "id": uuid.uuid4(),
                "organisation_id": organisation_id,
                "ref": row["ref"],
                "email": row["email"],
                "name": row.get("name") or "",
                "timezone": row.get("timezone"),
                "locale": row.get("locale"),
                "created_at": now,
                "updated_at": now,
            }
            fresh.append(new)
            ids[row["ref"]] = new["id"]
            continue
        ids[row["ref"]] = existing[0]
        current = dict(zip(fields, existing[1:], strict=True))
        wanted = {name: row.get(name) or current[name] for name in fields}
        if wanted != current:
            changed.append({"attendee_id": existing[0], **wanted, "now": now})
    insert_rows(session, Attendee, fresh)
    if changed:
        session.execute(
            update(Attendee)
            .where(Attendee.id == bindparam("attendee_id"))
            .values(
                email=bindparam("email"),
                name=bindparam("name"),
                timezone=bindparam("timezone"),
                locale=bindparam("locale"),
                updated_at=bindparam("now"),
            )
            .execution_options(synchronize_session=False),
            changed,
        )
    return ids


def _active_by_attendee(
    session: Session, *, event: Event, scope: Scope, attendee_ids: Sequence[uuid.UUID]
) -> tuple[set[uuid.UUID], dict[uuid.UUID, int]]:
    """(attendees active in this scope, active enrollments per attendee in the event)."""
    in_scope: set[uuid.UUID] = set()
    per_event: dict[uuid.UUID, int] = {}
    for batch in _batches(list(attendee_ids)):
        for attendee_id, scope_key in session.execute(
            select(Enrollment.attendee_id, Enrollment.scope_key).where(
                Enrollment.event_id == event.id,
                Enrollment.attendee_id.in_(batch),
                Enrollment.status.in_(ACTIVE_STATUSES),
            )
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
    """Apply one chunk of rows in the caller's transaction.

    ``failed`` holds rows already refused (invalid input, duplicates); their
    errors are reported in row order with the rest. Rows that pass are
    enrolled while seats last at every level, then waitlisted (or refused
    with EVENT_FULL without a waiting list).
    """
    outcome = ChunkOutcome()
    refusal = enrollment_refusal(event, now=now)
    candidates = [row for row in rows if row["row"] not in failed]
    errors: dict[int, dict[str, Any]] = {
        row["row"]: failed[row["row"]] for row in rows if row["row"] in failed
    }
    if refusal is not None:
        errors.update({row["row"]: row_error(row, refusal) for row in candidates})
        candidates = []
    ids = _upsert_attendees(
        session, organisation_id=event.organisation_id, rows=candidates, now=now
    )
    if event.max_per_attendee is not None and ids:
        # Lock the attendees, as single enrollment does, before counting.
        for batch in _batches(sorted(ids.values())):
            session.execute(select(Attendee.id).where(Attendee.id.in_(batch)).with_for_update())
    in_scope, per_event = _active_by_attendee(
        session, event=event, scope=scope, attendee_ids=list(ids.values())
    )
    eligible: list[dict[str, Any]] = []
    for row in candidates:
        attendee_id = ids[row["ref"]]
        if attendee_id in in_scope:
            errors[row["row"]] = row_error(row, AlreadyEnrolled())
        elif not may_enroll_more(event.max_per_attendee, per_event.get(attendee_id, 0)):
            errors[row["row"]] = row_error(row, MaxEnrollmentsReached())
        else:
            eligible.append(row)
    levels = capacity.lock_levels(session, scope.rows)
    granted = seats_grantable(levels, len(eligible))
    seated, rest = eligible[:granted], eligible[granted:]
    if rest and not event.waiting_list:
        full = EventFull(max_subscriptions=event.max_subscriptions)
        errors.update({row["row"]: row_error(row, full) for row in rest})
        rest = []
    capacity.add_seats(session, scope.rows, len(seated))
    waiting_before = 0
    if rest:
        waiting_before = int(
            session.scalar(
                select(func.count())
                .select_from(Enrollment)
                .where(
                    Enrollment.event_id == event.id,
                    Enrollment.scope_key == scope.key,
                    Enrollment.status == "waitlisted",
                )
            )
            or 0
        )
        capacity.add_waitlisted_at(session, scope.rows[0], len(rest))
    _insert_enrollments(
        session,
        event=event,
        scope=scope,
        seated=seated,
        waiting=rest,
        waiting_before=waiting_before,
        attendee_ids=ids,
        now=now,
        requested_at=requested_at,
        job_id=job_id,
    )
    outcome.enrolled, outcome.waitlisted = len(seated), len(rest)
    outcome.errors = [errors[number] for number in sorted(errors)]
    return outcome


def _insert_enrollments(
    session: Session,
    *,
    event: Event,
    scope: Scope,
    seated: Sequence[dict[str, Any]],
    waiting: Sequence[dict[str, Any]],
    waiting_before: int,
    attendee_ids: dict[str, uuid.UUID],
    now: datetime,
    requested_at: datetime,
    job_id: uuid.UUID,
) -> None:
    enrollments: list[dict[str, Any]] = []
    payments: list[dict[str, Any]] = []
    mails: list[dict[str, Any]] = []
    outbox: list[dict[str, Any]] = []
    shown = event_context(event)
    if scope.occurrence_id is not None:
        occurrence = session.get(Occurrence, scope.occurrence_id)
        if occurrence is not None:
            shown |= {
                "starts_at": occurrence.starts_at.isoformat(),
                "ends_at": occurrence.ends_at.isoformat(),
            }
    numbered = [(row, "enrolled", None) for row in seated] + [
        (row, "waitlisted", waiting_before + i + 1) for i, row in enumerate(waiting)
    ]
    for row, status, position in numbered:
        enrollment_id, mail_id = uuid.uuid4(), uuid.uuid4()
        attendee_id = attendee_ids[row["ref"]]
        enrollments.append(
            {
                "id": enrollment_id,
                "organisation_id": event.organisation_id,
                "event_id": event.id,
                "occurrence_id": scope.occurrence_id,
                "session_id": scope.session_id,
                "attendee_id": attendee_id,
                "scope_key": scope.key,
                "status": status,
                "requested_at": requested_at,
                "request_seq": row["row"],
                "enrolled_at": now if status == "enrolled" else None,
                "job_id": job_id,
                "created_at": now,
                "updated_at": now,
            }
        )
        if status == "enrolled":
            payments.append(
                {
                    "id": uuid.uuid4(),
                    "organisation_id": event.organisation_id,
                    "event_id": event.id,
                    "attendee_id": attendee_id,
                    "enrollment_id": enrollment_id,
                    "state": "manual_enrolled",
                    "amount": Decimal("0"),
                    "created_at": now,
                }
            )
        info: dict[str, Any] = {"id": str(enrollment_id), "status": status}
        if position is not None:
            info["waitlist_position"] = position
        person = {"ref": row["ref"], "name": row.get("name") or "", "email": row["email"]}
        mails.append(
            {
                "id": mail_id,
                "organisation_id": event.organisation_id,
                "job_id": job_id,
                "template": "enrollment_confirmed"
                if status == "enrolled"
                else "enrollment_waitlisted",
                "to_address": row["email"],
                "to_name": row.get("name") or "",
                "context": {
                    "event": shown,
                    "attendee": attendee_context_of(person),
                    "enrollment": info,
                },
                "state": "queued",
                "attempts": 0,
                "created_at": now,
            }
        )
        outbox.append(
            {
                "id": uuid.uuid4(),
                "actor": SEND_EMAIL_ACTOR,
                "args": [str(mail_id)],
                "created_at": now,
                "attempts": 0,
            }
        )
    if not enrollments:
        return
    insert_rows(session, Enrollment, enrollments)
    insert_rows(session, Payment, payments)
    insert_rows(session, EmailMessage, mails)
    insert_rows(session, OutboxMessage, outbox)
    session.info.setdefault(PENDING_KEY, []).extend(row["id"] for row in outbox)


def attendee_context_of(person: dict[str, str]) -> dict[str, Any]:
    """The attendee part of a mail context from a bulk row (the shape of
    domain.mail.attendee_context)."""
    return {"ref": person["ref"], "name": person["name"], "email": person["email"]}
