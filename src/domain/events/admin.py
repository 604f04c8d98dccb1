"""What an organiser does to an event after creating it: edit, unpublish, delete,
copy, cancel (the event or one occurrence), and completion by the scheduler.

The rules are the pure policies of domain.events.lifecycle; these functions load the
counts those policies need, apply the change, and raise the refusal.
"""

from __future__ import annotations

import copy as deep
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rollcall.domain.enrollment.admission import window_of
from rollcall.domain.enrollment.booking_window import window_refusal
from rollcall.domain.enrollment.waitlist import promote_waitlisted
from rollcall.domain.errors.events import EventRefTaken
from rollcall.domain.events import lifecycle, recurrence
from rollcall.domain.events.content import stored_content
from rollcall.domain.events.listing import listing_changed, write_labels
from rollcall.domain.events.occurrences import (
    EXPANSION_SLACK,
    expand_event_occurrences,
    insert_occurrences,
    occurrence_rows,
    refresh_event_span,
    replace_occurrences,
)
from rollcall.domain.events.offers import link_offer
from rollcall.domain.events.place import PLACE_COLUMNS
from rollcall.domain.jobs.row_guard import each_row
from rollcall.domain.webhooks.causes import record_event_change, record_occurrences_cancelled
from rollcall.models import Enrollment, Event, EventSession, Occurrence, Payment, Trainer
from rollcall.models.enrollment import ACTIVE_STATUSES
from rollcall.models.events import ACCESS_FIELDS, CONTENT_FIELDS

#: The columns of the booking window (domain.enrollment.booking_window).
WINDOW_COLUMNS = frozenset(
    {
        "booking_start",
        "booking_start_offset_minutes",
        "registration_end",
        "booking_end_offset_minutes",
    }
)

#: Copied by ``copy_event``; everything else starts afresh on the copy.
COPIED_FIELDS = (
    "type",
    "name",
    "description",
    "timezone",
    "max_subscriptions",
    "min_subscriptions",
    "waiting_list",
    "registration_end",
    "booking_start",
    "booking_start_offset_minutes",
    "booking_end_offset_minutes",
    "price",
    "max_per_attendee",
    "reminder_before_minutes",
    "reminder_after_minutes",
    "recurrence",
    "booked_per_date",
    "settings",
    "offer_id",
    "listed",
    "categories",
    "tags",
    *CONTENT_FIELDS,
    "venue",
    "online_url",
    "banner",
    "thumbnail",
)


def seats_taken(session: Session, *, event_id: uuid.UUID) -> int:
    """Active (enrolled or waitlisted) enrollments of the event, at any level."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(Enrollment)
            .where(Enrollment.event_id == event_id, Enrollment.status.in_(ACTIVE_STATUSES))
        )
        or 0
    )


def _most_enrolled(session: Session, event: Event) -> int:
    """The most seats taken under the event's capacity: the event's own counter,
    or per date an occurrence that has no capacity of its own."""
    per_date = session.scalar(
        select(func.max(Occurrence.enrolled_count)).where(
            Occurrence.event_id == event.id, Occurrence.capacity.is_(None)
        )
    )
    return max(event.enrolled_count, int(per_date or 0))


def _raise_if(refusal: Exception | None) -> None:
    if refusal is not None:
        raise refusal


def update_event(
    session: Session,
    *,
    event: Event,
    changes: dict[str, Any],
    now: datetime,
    horizon_until: datetime,
) -> dict[str, Any] | None:
    """Apply a PATCH; returns the place as it was (``venue``, ``online_url``)
    when the PATCH changed it (the event's ``place_sequence`` then counts one
    more), else None. Raises the lifecycle refusal of the first field that may not
    change, CapacityBelowEnrolled, MinAboveMax, WaitingListNotEmpty, BookingWindowInvalid,
    OfferNotFound, EventRefTaken.

    Changing the timezone, rule or dates of a draft rebuilds its occurrences;
    ``offer_id`` or ``offer_ref`` moves the event to that offer (null: to none).
    A field sent with the value it already has is no change: it is dropped
    first, so re-sending a whole event (a draft-only field included, unchanged)
    to a published event is accepted.
    """
    changes = {
        field: value
        for field, value in changes.items()
        if not _unchanged(session, event=event, field=field, value=value)
    }
    _refuse_update(session, event=event, changes=changes)
    link_offer(session, organisation_id=event.organisation_id, fields=changes)
    stored_content(changes)
    old_max = event.max_subscriptions
    old_place = {name: deep.deepcopy(getattr(event, name)) for name in PLACE_COLUMNS}
    place_moved = bool(PLACE_COLUMNS & changes.keys())
    if place_moved:
        event.place_sequence = (event.place_sequence or 0) + 1
    dates = changes.pop("dates", None)
    reshape = dates is not None or bool({"recurrence", "timezone"} & changes.keys())
    for field, value in changes.items():
        setattr(event, field, value)
    if WINDOW_COLUMNS & changes.keys():
        _raise_if(window_refusal(window_of(event)))
    if dates is not None or ("recurrence" in changes and changes["recurrence"] is None):
        # No rule any more: the dates are explicit, and nothing is left to expand.
        event.recurrence = None
        event.expanded_until = None
    event.updated_at = now
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise EventRefTaken(ref=changes.get("ref")) from exc
    if listing_changed(changes):
        write_labels(session, event=event)
    if reshape and (dates is not None or event.recurrence is not None):
        replace_occurrences(session, event=event, spans=dates, until=horizon_until)
    new_max = event.max_subscriptions
    raised = (
        "max_subscriptions" in changes
        and old_max is not None
        and (new_max is None or new_max > old_max)
    )
    if raised:
        promote_for_raised_capacity(session, event=event, now=now)
    if place_moved and event.status == "published":
        record_event_change(session, event_type="event.changed", event=event, now=now)
    return old_place if place_moved else None


def _unchanged(session: Session, *, event: Event, field: str, value: Any) -> bool:
    """Whether a PATCH field's value is what the event already has."""
    if field == "dates":
        if value is None or event.recurrence is not None:
            return False
        current = session.execute(
            select(Occurrence.starts_at, Occurrence.ends_at)
            .where(Occurrence.event_id == event.id, Occurrence.cancelled.is_(False))
            .order_by(Occurrence.starts_at)
        ).all()
        return [tuple(span) for span in current] == sorted(tuple(span) for span in value)
    if field not in Event.__table__.columns:
        # An instruction, not a column (offer_ref names the offer to move to).
        return False
    return bool(getattr(event, field) == value)


def _refuse_update(session: Session, *, event: Event, changes: dict[str, Any]) -> None:
    """Raise the first refusal of the PATCH: a field that may not change, or a
    capacity or waiting list the seats taken do not allow."""
    for field in sorted(changes):
        _raise_if(lifecycle.edit_refusal(event, field))
    if "max_subscriptions" in changes or "waiting_list" in changes:
        # Lock the counter row before reading the counts: a worker taking a seat
        # now waits for this transaction and then sees the new capacity, so a
        # lowered capacity can never end up below the seats taken.
        session.execute(
            select(Event)
            .where(Event.id == event.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    if "max_subscriptions" in changes or "min_subscriptions" in changes:
        _raise_if(
            lifecycle.capacity_refusal(
                max_subscriptions=changes.get("max_subscriptions", event.max_subscriptions),
                min_subscriptions=changes.get("min_subscriptions", event.min_subscriptions),
                enrolled=_most_enrolled(session, event) if "max_subscriptions" in changes else 0,
            )
        )
    if changes.get("waiting_list") is False:
        _raise_if(
            lifecycle.waiting_list_refusal(waiting_list=False, waitlisted=event.waitlisted_count)
        )


def promote_for_raised_capacity(session: Session, *, event: Event, now: datetime) -> int:
    """Give the seats a raised ``max_subscriptions`` opens to the waiting lists,
    in this transaction; returns how many were promoted.

    Every scope with someone waiting is tried (the event's, and dates or
    sessions whose seats also count against the event's capacity): each
    promotion takes a seat at every level, so nobody exceeds any capacity.
    """
    scope_keys = session.scalars(
        select(Enrollment.scope_key)
        .where(Enrollment.event_id == event.id, Enrollment.status == "waitlisted")
        .distinct()
        .order_by(Enrollment.scope_key)
    ).all()
    return sum(
        len(promote_waitlisted(session, event=event, scope_key=key, now=now)) for key in scope_keys
    )


def unpublish_event(session: Session, *, event: Event, now: datetime) -> Event:
    """Back to draft, and its sessions are no longer for sale (status inactive,
    marked ``paused_by_unpublish`` so that publishing brings them back).

    Raises EventCancelled, EventCompleted, EventAlreadyUnpublished, EventHasEnrollments.
    """
    _raise_if(
        lifecycle.unpublish_refusal(event, seats_taken=seats_taken(session, event_id=event.id))
    )
    event.status = "draft"
    event.published_at = None
    event.updated_at = now
    # Only the active ones are marked: publish brings back these, and a session
    # the organiser had made inactive stays so.
    session.execute(
        update(EventSession)
        .where(EventSession.event_id == event.id, EventSession.status == "active")
        .values(status="inactive", paused_by_unpublish=True)
        .execution_options(synchronize_session="fetch")
    )
    return event


def delete_event(session: Session, *, event: Event) -> uuid.UUID:
    """Delete a draft that never had an enrollment; returns its id.

    Raises EventCompleted, EventIsPublished, EventHasEnrollments.
    """
    rows = session.scalar(
        select(func.count()).select_from(Enrollment).where(Enrollment.event_id == event.id)
    )
    payments = session.scalar(
        select(func.count()).select_from(Payment).where(Payment.event_id == event.id)
    )
    _raise_if(
        lifecycle.delete_refusal(event, enrollments=int(rows or 0), payments=int(payments or 0))
    )
    event_id = event.id
    session.delete(event)
    session.flush()
    return event_id


def copy_event(
    session: Session,
    *,
    event: Event,
    now: datetime,
    horizon_until: datetime,
    ref: str | None = None,
    name: str | None = None,
) -> Event:
    """A new draft with the event's settings, rule or dates, sessions and trainers,
    and no enrollments. Its ref is ``ref`` (refs are unique, so never copied).

    Sessions on specific occurrences keep the occurrences with the same start.
    Raises EventRefTaken.
    """
    copy = _new_draft(session, event=event, now=now, ref=ref, name=name)
    new_occurrence = _copy_occurrences(session, event=event, copy=copy, until=horizon_until)
    _copy_sessions(session, event=event, copy=copy, new_occurrence=new_occurrence, now=now)
    for attendee_id in session.scalars(
        select(Trainer.attendee_id).where(Trainer.event_id == event.id)
    ):
        session.add(Trainer(event_id=copy.id, attendee_id=attendee_id))
    session.flush()
    return copy


def _new_draft(
    session: Session, *, event: Event, now: datetime, ref: str | None, name: str | None
) -> Event:
    """The copy's event row, flushed (a taken ref raises EventRefTaken)."""
    fields = {name_: getattr(event, name_) for name_ in COPIED_FIELDS}
    fields["settings"] = dict(event.settings or {})
    for list_field in (*ACCESS_FIELDS, "categories", "tags"):
        fields[list_field] = list(fields[list_field] or [])
    for json_field in ("venue", "banner", "thumbnail"):
        fields[json_field] = deep.deepcopy(fields[json_field])
    fields["banner"] = fields["banner"] or []
    if name is not None:
        fields["name"] = name
    copy = Event(
        organisation_id=event.organisation_id,
        ref=ref,
        status="draft",
        cancelled=False,
        created_at=now,
        updated_at=now,
        enrolled_count=0,
        waitlisted_count=0,
        **fields,
    )
    try:
        with session.begin_nested():
            session.add(copy)
            session.flush()
    except IntegrityError as exc:
        raise EventRefTaken(ref=ref) from exc
    write_labels(session, event=copy)
    return copy


def _copy_occurrences(
    session: Session, *, event: Event, copy: Event, until: datetime
) -> dict[str, uuid.UUID]:
    """The copy's occurrences, from its rule or the original's dates not
    cancelled; returns the new occurrence of each original one that has a
    counterpart with the same start."""
    originals = session.scalars(
        select(Occurrence).where(Occurrence.event_id == event.id).order_by(Occurrence.starts_at)
    ).all()
    if copy.recurrence is not None:
        expand_event_occurrences(session, event=copy, until=until + EXPANSION_SLACK)
    else:
        spans = [(o.starts_at, o.ends_at) for o in originals if not o.cancelled]
        insert_occurrences(session, occurrence_rows(copy.id, spans))
        refresh_event_span(session, event=copy)
    new_id_at = {
        starts: occurrence_id
        for starts, occurrence_id in session.execute(
            select(Occurrence.starts_at, Occurrence.id).where(Occurrence.event_id == copy.id)
        )
    }
    return {str(o.id): new_id_at[o.starts_at] for o in originals if o.starts_at in new_id_at}


def _copy_sessions(
    session: Session,
    *,
    event: Event,
    copy: Event,
    new_occurrence: dict[str, uuid.UUID],
    now: datetime,
) -> None:
    """The original's sessions on the copy, empty; a session on specific
    occurrences keeps those that have a counterpart."""
    for item in session.scalars(select(EventSession).where(EventSession.event_id == event.id)):
        ids = None
        if item.occurrence_ids is not None:
            ids = [str(new_occurrence[old]) for old in item.occurrence_ids if old in new_occurrence]
        session.add(
            EventSession(
                event_id=copy.id,
                name=item.name,
                capacity=item.capacity,
                status=item.status,
                starts_at=item.starts_at,
                duration_minutes=item.duration_minutes,
                occurrence_ids=ids,
                paused_by_unpublish=item.paused_by_unpublish,
                enrolled_count=0,
                waitlisted_count=0,
                created_at=now,
            )
        )


def cancel_event(session: Session, *, event: Event, now: datetime) -> Event:
    """Mark the event cancelled: it takes no more enrollments and no more changes.

    Enrollments keep their rows and their status (the event's ``cancelled`` flag
    is the truth), so who was in stays visible. Raises EventAlreadyCancelled,
    EventCompleted. The caller submits the notification job in the same transaction.
    """
    _raise_if(lifecycle.cancel_refusal(event))
    event.cancelled = True
    event.cancelled_at = now
    event.updated_at = now
    record_event_change(session, event_type="event.cancelled", event=event, now=now)
    return event


def cancel_occurrence(
    session: Session, *, event: Event, occurrence: Occurrence, now: datetime
) -> Occurrence:
    """Cancel one date of the event. Raises EventCancelled, EventCompleted,
    OccurrenceAlreadyCancelled, OccurrenceEnded."""
    _raise_if(lifecycle.occurrence_cancel_refusal(event, occurrence, now=now))
    occurrence.cancelled = True
    event.updated_at = now
    session.flush()
    refresh_event_span(session, event=event)
    record_occurrences_cancelled(session, event=event, occurrences=[occurrence], now=now)
    return occurrence


def final_end(event: Event) -> datetime | None:
    """When the event's last occurrence ends, or None if it never does."""
    if event.recurrence is None:
        return event.ends_at
    last = recurrence.last_end(event.recurrence, event.timezone)
    if last is None or event.ends_at is None:
        return last
    # A date moved past the rule's last one (domain.events.reschedule) ends later.
    return max(last, event.ends_at)


def complete_due_events(
    session: Session, *, organisation_id: uuid.UUID, now: datetime
) -> list[uuid.UUID]:
    """Complete the organisation's published events whose last occurrence has
    ended; returns their ids. Idempotent: a completed event is not looked at again."""
    candidates = session.scalars(
        select(Event).where(
            Event.organisation_id == organisation_id,
            Event.status == "published",
            Event.cancelled.is_(False),
            Event.ends_at <= now,
        )
    ).all()
    done: list[uuid.UUID] = []
    for event in candidates:
        # Each event on its own (a savepoint): an odd one is skipped, not fatal.
        with each_row(session, f"event {event.id} (completion)"):
            if lifecycle.is_due_for_completion(event, last_end=final_end(event), now=now):
                event.status = "completed"
                event.completed_at = now
                event.updated_at = now
                done.append(event.id)
    return done
