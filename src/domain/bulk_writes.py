"""Writing many placed enrollments at once: the enrollment rows, the zero
payments of seats, the mails and their outbox rows (COPY on PostgreSQL).

Per seat one ``manual_enrolled`` payment (seed 003); per row one confirmation
or waiting-list mail whose context snapshots the event, attendee and
enrollment, and one outbox message (``send_emails``) for all of the mails.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, true
from sqlalchemy.orm import Session

from domain.attendee_rows import AttendeeRow
from domain.enrollment_mail import TEMPLATES
from domain.mail import SEND_EMAILS_ACTOR, event_context
from domain.outbox import add_message
from domain.scopes import Scope
from models import EmailMessage, Enrollment, Event, Occurrence, Payment
from models.bulk_insert import insert_rows

#: Above this many new waiting rows, exclude them by count, not by an id list.
_ID_LIST_LIMIT = 1_000


@dataclass(frozen=True)
class Placement:
    """Where one row's attendee ended up."""

    enrollment_id: uuid.UUID
    attendee_ref: str
    status: str
    waitlist_position: int | None


def _enrollment_row(
    event: Event,
    scope: Scope,
    row: dict[str, Any],
    person: AttendeeRow,
    status: str,
    *,
    now: datetime,
    requested_at: datetime,
    job_id: uuid.UUID,
) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "organisation_id": event.organisation_id,
        "event_id": event.id,
        "occurrence_id": scope.occurrence_id,
        "session_id": scope.session_id,
        "attendee_id": person.id,
        "scope_key": scope.key,
        "status": status,
        "requested_at": row.get("requested_at", requested_at),
        "request_seq": row.get("request_seq", row["row"]),
        "enrolled_at": now if status == "enrolled" else None,
        "job_id": row.get("job_id", job_id),
        "created_at": now,
        "updated_at": now,
    }


def insert_enrollments(
    session: Session,
    *,
    event: Event,
    scope: Scope,
    seated: Sequence[dict[str, Any]],
    waiting: Sequence[dict[str, Any]],
    people: dict[str, AttendeeRow],
    now: datetime,
    requested_at: datetime,
    job_id: uuid.UUID,
) -> dict[int, Placement]:
    """Write the rows of ``seated`` (enrolled) and ``waiting`` (waitlisted);
    returns each row's placement by row number."""
    enrollments = [
        (
            row,
            _enrollment_row(
                event,
                scope,
                row,
                people[row["ref"]],
                status,
                now=now,
                requested_at=requested_at,
                job_id=job_id,
            ),
        )
        for rows, status in ((seated, "enrolled"), (waiting, "waitlisted"))
        for row in rows
    ]
    if not enrollments:
        return {}
    insert_rows(session, Enrollment, [values for _row, values in enrollments])
    positions = _waitlist_positions(
        session,
        event=event,
        scope=scope,
        new=[
            ((v["requested_at"], v["request_seq"], v["id"]), v["id"])
            for _row, v in enrollments
            if v["status"] == "waitlisted"
        ],
    )
    payments: list[dict[str, Any]] = []
    mails: list[dict[str, Any]] = []
    placed: dict[int, Placement] = {}
    shown = _shown_event(session, event, scope)
    for row, values in enrollments:
        person, status = people[row["ref"]], values["status"]
        position = positions.get(values["id"])
        placed[row["row"]] = Placement(values["id"], row["ref"], status, position)
        if status == "enrolled":
            payments.append(
                {
                    "id": uuid.uuid4(),
                    "organisation_id": event.organisation_id,
                    "event_id": event.id,
                    "attendee_id": person.id,
                    "enrollment_id": values["id"],
                    "state": "manual_enrolled",
                    "amount": Decimal("0"),
                    "created_at": now,
                }
            )
        info: dict[str, Any] = {"id": str(values["id"]), "status": status}
        if position is not None:
            info["waitlist_position"] = position
        mail_id = uuid.uuid4()
        mails.append(
            {
                "id": mail_id,
                "organisation_id": event.organisation_id,
                "job_id": values["job_id"],
                "template": TEMPLATES[status],
                "to_address": person.email,
                "to_name": person.name,
                "context": {
                    "event": shown,
                    "attendee": {"ref": row["ref"], "name": person.name, "email": person.email},
                    "enrollment": info,
                },
                "state": "queued",
                "attempts": 0,
                "created_at": now,
            }
        )
    insert_rows(session, Payment, payments)
    insert_rows(session, EmailMessage, mails)
    # One message for all these mails: sent over one SMTP connection, and one
    # broker round trip instead of one per mail.
    add_message(
        session,
        actor=SEND_EMAILS_ACTOR,
        args=[[str(mail["id"]) for mail in mails]],
        now=now,
    )
    return placed


def _shown_event(session: Session, event: Event, scope: Scope) -> dict[str, Any]:
    """What the mails say about the event (an occurrence's own times)."""
    shown = event_context(event)
    if scope.occurrence_id is not None:
        occurrence = session.get(Occurrence, scope.occurrence_id)
        if occurrence is not None:
            shown |= {
                "starts_at": occurrence.starts_at.isoformat(),
                "ends_at": occurrence.ends_at.isoformat(),
            }
    return shown


def _waitlist_positions(
    session: Session,
    *,
    event: Event,
    scope: Scope,
    new: Sequence[tuple[tuple[datetime, int, uuid.UUID], uuid.UUID]],
) -> dict[uuid.UUID, int]:
    """1-based places of the new waitlisted enrollments (already inserted), in
    ``(requested_at, request_seq, id)`` order, as domain.waitlist counts them.
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
