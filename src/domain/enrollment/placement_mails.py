"""Mails of enrollments placed set-wise: a bulk chunk, a group of enroll jobs.

The transaction that places them writes one outbox message naming the
placements (enrollment id, status, waiting-list place), not the mails: it holds
the event's lock, and at 10,000 rows the mail rows were a fifth of its time.
After commit the mail worker writes the rows here, once (one dedupe key per
enrollment, so a redelivered message finds them written), and sends them over
one SMTP connection (workers.mail_run). A rolled-back placement has no outbox
message, so it mails nobody; a committed one cannot lose its message.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from rollcall.domain.enrollment.mail import TEMPLATES, shown_event
from rollcall.domain.jobs import actor_names
from rollcall.models import Attendee, EmailMessage, Enrollment, Event
from rollcall.models.base import new_id
from rollcall.models.bulk_insert import insert_rows
from rollcall.models.sql_lists import among

#: The actor (workers.actors) that writes and sends a message's mails.
PLACEMENT_MAILS_ACTOR = actor_names.SEND_PLACEMENT_MAILS

#: [enrollment id, status, waiting-list place or None], JSON-safe.
Item = Sequence[Any]


def placement_item(enrollment_id: uuid.UUID, status: str, position: int | None) -> list[Any]:
    return [str(enrollment_id), status, position]


def dedupe_key(enrollment_id: str) -> str:
    return f"placed:{enrollment_id}"


def prepare_placement_mails(session: Session, items: Iterable[Item], *, now: datetime) -> list[str]:
    """Write the mail rows of these placements that are not written yet; returns
    the dedupe keys of all of them (send what is still queued among those).

    Context as at placement: the status and waiting-list place the placement
    had; the event and attendee as they are now (moments later). A placement
    whose enrollment is gone (its event deleted) mails nobody.
    """
    by_id = {str(item[0]): item for item in items}
    keys = [dedupe_key(enrollment_id) for enrollment_id in by_id]
    if not keys:
        return []
    dialect = session.get_bind().dialect.name
    written = set(
        session.scalars(
            select(EmailMessage.dedupe_key).where(among(dialect, EmailMessage.dedupe_key, keys))
        )
    )
    wanted = [uuid.UUID(e) for e in by_id if dedupe_key(e) not in written]
    if not wanted:
        return keys
    rows = session.execute(
        select(
            Enrollment.id,
            Enrollment.organisation_id,
            Enrollment.job_id,
            Enrollment.event_id,
            Enrollment.occurrence_id,
            Enrollment.attendee_id,
            Enrollment.mail_key,
            Attendee.ref,
            Attendee.name,
            Attendee.email,
            Attendee.locale,
            Attendee.timezone,
        )
        .join(Attendee, Attendee.id == Enrollment.attendee_id)
        .where(among(dialect, Enrollment.id, wanted))
    ).all()
    shown: dict[tuple[uuid.UUID, uuid.UUID | None], dict[str, Any]] = {}
    for row in rows:
        where = (row.event_id, row.occurrence_id)
        if where not in shown:
            event = session.get(Event, row.event_id)
            assert event is not None  # the enrollment row references it
            shown[where] = shown_event(session, event, row.occurrence_id)
    insert_rows(
        session,
        EmailMessage,
        (
            _mail_row(row, by_id[str(row.id)], shown[(row.event_id, row.occurrence_id)], now)
            for row in rows
        ),
    )
    return keys


def _mail_row(row: Any, item: Item, shown: dict[str, Any], now: datetime) -> dict[str, Any]:
    enrollment_id, status, position = str(item[0]), str(item[1]), item[2]
    info: dict[str, Any] = {"id": enrollment_id, "status": status}
    if position is not None:
        info["waitlist_position"] = position
    return {
        "id": new_id(),
        "organisation_id": row.organisation_id,
        "job_id": row.job_id,
        "dedupe_key": dedupe_key(enrollment_id),
        "template": TEMPLATES[status],
        "to_address": row.email,
        "to_name": row.name or "",
        "context": {
            "event": shown,
            "attendee": {
                "ref": row.ref,
                "name": row.name or "",
                "email": row.email,
                "locale": row.locale,
                "timezone": row.timezone,
            },
            "enrollment": info,
        },
        "state": "queued",
        "attempts": 0,
        "created_at": now,
        # In the order of the placement, not of this write (models.mail.next_order_key).
        "attendee_id": row.attendee_id,
        "event_id": row.event_id,
        "order_key": row.mail_key,
    }
