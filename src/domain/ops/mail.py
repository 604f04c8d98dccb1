"""Mail is recorded as an EmailMessage row plus an outbox row, in the same
transaction as the change that causes it: a rollback leaves no mail behind."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from rollcall.domain.jobs import actor_names
from rollcall.domain.jobs.outbox import add_message
from rollcall.models import Attendee, EmailMessage, Event
from rollcall.models.mail import next_order_key


def queue_email(
    session: Session,
    *,
    organisation_id: uuid.UUID,
    template: str,
    to_address: str,
    to_name: str,
    context: dict[str, Any],
    now: datetime,
    job_id: uuid.UUID | None = None,
    dedupe_key: str | None = None,
    about: tuple[uuid.UUID, uuid.UUID] | None = None,
) -> EmailMessage:
    """Queue one mail. ``about`` (attendee id, event id) orders it: it leaves
    after every earlier mail of that attendee and event (models.mail.next_order_key;
    call this after the change's locks)."""
    message = EmailMessage(
        organisation_id=organisation_id,
        template=template,
        to_address=to_address,
        to_name=to_name,
        context=context,
        job_id=job_id,
        dedupe_key=dedupe_key,
        state="queued",
        attempts=0,
        created_at=now,
    )
    if about is not None:
        message.attendee_id, message.event_id = about
        message.order_key = next_order_key(session)
    session.add(message)
    session.flush()
    add_message(session, actor=actor_names.SEND_EMAIL, args=[str(message.id)], now=now)
    return message


def event_context(event: Event) -> dict[str, Any]:
    """A JSON-safe snapshot of what a mail says about an event."""
    return {
        "id": str(event.id),
        "ref": event.ref,
        "name": event.name,
        "description": event.description,
        "type": event.type,
        "timezone": event.timezone,
        "starts_at": event.starts_at.isoformat() if event.starts_at else None,
        "ends_at": event.ends_at.isoformat() if event.ends_at else None,
    }


def attendee_context(attendee: Attendee) -> dict[str, Any]:
    """What a mail knows of its attendee; ``locale`` picks the mail's language."""
    return {
        "ref": attendee.ref,
        "name": attendee.name,
        "email": attendee.email,
        "locale": attendee.locale,
        "timezone": attendee.timezone,
    }
