"""Attendees are created or updated from what upstream systems send."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rollcall.models import Attendee


def upsert_attendee(
    session: Session,
    *,
    organisation_id: uuid.UUID,
    ref: str,
    email: str,
    name: str,
    now: datetime,
    timezone: str | None = None,
    locale: str | None = None,
) -> Attendee:
    """The attendee with this ref, created or brought up to date."""
    attendee = session.scalar(
        select(Attendee).where(Attendee.organisation_id == organisation_id, Attendee.ref == ref)
    )
    if attendee is None:
        attendee = Attendee(
            organisation_id=organisation_id,
            ref=ref,
            email=email,
            name=name,
            timezone=timezone,
            locale=locale,
            created_at=now,
            updated_at=now,
        )
        try:
            with session.begin_nested():
                session.add(attendee)
        except IntegrityError:
            # Another worker created the same ref concurrently: use theirs.
            attendee = session.scalars(
                select(Attendee).where(
                    Attendee.organisation_id == organisation_id, Attendee.ref == ref
                )
            ).one()
        else:
            return attendee
    changed = False
    for field, value in (
        ("email", email),
        ("name", name),
        ("timezone", timezone),
        ("locale", locale),
    ):
        if value is not None and getattr(attendee, field) != value:
            setattr(attendee, field, value)
            changed = True
    if changed:
        attendee.updated_at = now
    return attendee
