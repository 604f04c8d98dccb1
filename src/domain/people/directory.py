"""The organisation's attendees: create, read, change, list (keyset cursor)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rollcall.domain.access.attendee_tokens import get_attendee
from rollcall.domain.errors.people import AttendeeRefTaken
from rollcall.domain.pagination import decode_cursor, page_of
from rollcall.models import Attendee

#: The fields a client sets (ref only at creation).
DETAILS = ("email", "name", "timezone", "locale")
MAX_PAGE = 200

__all__ = ["create_attendee", "get_attendee", "list_attendees", "update_attendee"]


def create_attendee(
    session: Session, *, organisation_id: uuid.UUID, fields: Mapping[str, Any], now: datetime
) -> Attendee:
    """A new attendee (no enrollment needed: a trainer, say); raises
    AttendeeRefTaken if the ref is in use in the organisation."""
    attendee = Attendee(
        organisation_id=organisation_id,
        ref=fields["ref"],
        email=fields["email"],
        name=fields.get("name") or "",
        timezone=fields.get("timezone"),
        locale=fields.get("locale"),
        created_at=now,
        updated_at=now,
    )
    try:
        with session.begin_nested():
            session.add(attendee)
            session.flush()
    except IntegrityError:
        raise AttendeeRefTaken(ref=fields["ref"]) from None
    return attendee


def update_attendee(
    session: Session, *, attendee: Attendee, changes: Mapping[str, Any], now: datetime
) -> Attendee:
    """Apply the given details (``name``, ``timezone``, ``locale`` may be cleared
    with null; ``email`` may not). Stamps ``updated_at``, so an enroll job
    accepted earlier and applied later does not undo the change."""
    for name in DETAILS:
        if name in changes:
            value = changes[name]
            setattr(attendee, name, "" if name == "name" and value is None else value)
    attendee.updated_at = now
    session.flush()
    return attendee


def list_attendees(
    session: Session, *, organisation_id: uuid.UUID, after: str | None, limit: int
) -> tuple[list[Attendee], str | None]:
    """One page of the live attendees, oldest first; (items, next cursor).
    Raises InvalidCursor for a cursor this API did not hand out."""
    query = select(Attendee).where(
        Attendee.organisation_id == organisation_id, Attendee.erased_at.is_(None)
    )
    last = decode_cursor(after)
    if last is not None:
        moment, last_id = last
        query = query.where(
            or_(
                Attendee.created_at > moment,
                and_(Attendee.created_at == moment, Attendee.id > last_id),
            )
        )
    limit = max(1, min(limit, MAX_PAGE))
    rows = session.scalars(query.order_by(Attendee.created_at, Attendee.id).limit(limit + 1)).all()
    return page_of(rows, limit)
