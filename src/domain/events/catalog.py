"""Events: resolution by id or ref inside one organisation, creation, publishing, listing."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rollcall.domain.enrollment.admission import window_of
from rollcall.domain.enrollment.booking_window import window_refusal
from rollcall.domain.errors.events import EventNotFound, EventRefTaken
from rollcall.domain.events import lifecycle
from rollcall.domain.events.content import stored_content
from rollcall.domain.events.listing import write_labels
from rollcall.domain.events.occurrences import (
    EXPANSION_SLACK,
    expand_event_occurrences,
    insert_occurrences,
    occurrence_rows,
    refresh_event_span,
)
from rollcall.domain.events.offers import link_offer
from rollcall.domain.events.recurrence import Span
from rollcall.domain.lookup import by_id_or_ref, id_by_id_or_ref
from rollcall.domain.webhooks.causes import record_event_change
from rollcall.models import Event, EventSession


def get_event(session: Session, *, organisation_id: uuid.UUID, id_or_ref: str) -> Event:
    """The organisation's event with this id or ref.

    Another organisation's event is "not found", never "forbidden".
    """
    event = by_id_or_ref(session, Event, organisation_id=organisation_id, id_or_ref=id_or_ref)
    if event is None:
        raise EventNotFound(id=id_or_ref)
    return event


def get_event_id(session: Session, *, organisation_id: uuid.UUID, id_or_ref: str) -> uuid.UUID:
    """``get_event``'s event's id alone (a job's intake needs no more of it):
    the same rule and refusal, without loading the event's row."""
    found = id_by_id_or_ref(session, Event, organisation_id=organisation_id, id_or_ref=id_or_ref)
    if found is None:
        raise EventNotFound(id=id_or_ref)
    return found


def create_event(
    session: Session,
    *,
    organisation_id: uuid.UUID,
    fields: dict[str, Any],
    now: datetime,
    dates: Sequence[Span] | None = None,
    horizon_until: datetime | None = None,
) -> Event:
    """A new draft event with its occurrences: the explicit ``dates``, the rule in
    ``fields["recurrence"]`` expanded up to ``horizon_until``, or the single
    ``starts_at``/``ends_at``; in the offer ``fields`` name by ``offer_id`` or
    ``offer_ref``. Raises MinAboveMax, BookingWindowInvalid, OfferNotFound, EventRefTaken."""
    refusal = lifecycle.capacity_refusal(
        max_subscriptions=fields.get("max_subscriptions"),
        min_subscriptions=fields.get("min_subscriptions"),
        enrolled=0,
    )
    if refusal is not None:
        raise refusal
    link_offer(session, organisation_id=organisation_id, fields=fields)
    stored_content(fields)
    event = Event(
        organisation_id=organisation_id,
        status="draft",
        created_at=now,
        updated_at=now,
        enrolled_count=0,
        waitlisted_count=0,
        settings={},
        **fields,
    )
    refusal = window_refusal(window_of(event))
    if refusal is not None:
        raise refusal
    try:
        with session.begin_nested():
            session.add(event)
            session.flush()
    except IntegrityError as exc:
        raise EventRefTaken(ref=fields.get("ref")) from exc
    if event.categories or event.tags:
        write_labels(session, event=event)
    if event.recurrence is not None:
        until = horizon_until or now
        expand_event_occurrences(session, event=event, until=until + EXPANSION_SLACK)
    else:
        if dates is None and event.starts_at is not None and event.ends_at is not None:
            dates = [(event.starts_at, event.ends_at)]
        if dates:
            insert_occurrences(session, occurrence_rows(event.id, dates))
            refresh_event_span(session, event=event)
    session.flush()
    return event


def publish_event(session: Session, *, event: Event, now: datetime) -> Event:
    """Publish a draft, and make active again the sessions its unpublish made
    inactive (only those). Raises EventCancelled, EventCompleted, EventAlreadyPublished."""
    refusal = lifecycle.publish_refusal(event)
    if refusal is not None:
        raise refusal
    session.execute(
        update(EventSession)
        .where(EventSession.event_id == event.id, EventSession.paused_by_unpublish.is_(True))
        .values(status="active", paused_by_unpublish=False)
        .execution_options(synchronize_session="fetch")
    )
    event.status = "published"
    event.published_at = now
    event.updated_at = now
    record_event_change(session, event_type="event.published", event=event, now=now)
    return event


def list_events(
    session: Session,
    *,
    organisation_id: uuid.UUID,
    status: str | None = None,
    type: str | None = None,
    cancelled: bool | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    offer_id: uuid.UUID | None = None,
    after: tuple[datetime, uuid.UUID] | None = None,
    limit: int = 50,
) -> list[Event]:
    """The organisation's events, oldest created first, keyset-paginated.

    With a date range, only events whose [starts_at, ends_at] overlaps [start, end);
    with ``offer_id``, only the offer's.
    """
    query = select(Event).where(Event.organisation_id == organisation_id)
    if offer_id is not None:
        query = query.where(Event.offer_id == offer_id)
    if status is not None:
        query = query.where(Event.status == status)
    if type is not None:
        query = query.where(Event.type == type)
    if cancelled is not None:
        query = query.where(Event.cancelled.is_(cancelled))
    if start is not None:
        query = query.where(Event.ends_at > start)
    if end is not None:
        query = query.where(Event.starts_at < end)
    if after is not None:
        moment, last_id = after
        query = query.where(
            or_(Event.created_at > moment, and_(Event.created_at == moment, Event.id > last_id))
        )
    return list(session.scalars(query.order_by(Event.created_at, Event.id).limit(limit)))
