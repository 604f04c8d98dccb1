"""The notice of a change to a published event (seed 000 ``updateOfferEvent(...,
sendNotification: true)``): a date moved, or the place (venue, online URL)
changed. A job, recorded in the change's own transaction, mails every attendee
enrolled or waitlisted where the change applies and every trainer of the event
ONE ``event_changed`` mail: the old and the new time or place, and an .ics of
their dates (same UID as before, higher SEQUENCE).

The payload holds the change as it was made (old and new), so the mail tells
of that change even when the job runs after a later one; the later change has
its own job, SEQUENCE and mail.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from rollcall.domain.events.jobs import (
    NOTIFY_CANCELLATION,
    cancellation_recipients,
    dates_by_attendee,
    live_dates,
    trainer_ids,
)
from rollcall.domain.events.place import ical_sequence, place_of
from rollcall.domain.jobs.engine import handles
from rollcall.domain.ops.mail import attendee_context, event_context, queue_email
from rollcall.models import EmailMessage, Event, Job, Occurrence

NOTIFY_CHANGE = "notify_change"
TEMPLATE = "event_changed"
#: Most dates one change mail's .ics carries (the next ones, by start).
MAX_CALENDAR_DATES = 100


def notices_due(
    event: Event,
    *,
    old_place: dict[str, Any] | None,
    cancelled: bool,
    send_notification: bool,
) -> list[tuple[str, dict[str, Any]]]:
    """The jobs (type, payload) that tell the participants of a change made by a
    PATCH or seed 000's ``updateOfferEvent``: the event cancelled now, or the
    place (``old_place``: as it was, None if unchanged) of a published event.
    ``send_notification`` false (seed 000's ``sendNotification``): none, the
    change is made quietly. The one rule for REST and GraphQL."""
    if not send_notification:
        return []
    if cancelled:
        # A cancelled event's notice says so; a place changed with it is moot.
        payload = {"event_id": str(event.id), "occurrence_id": None, "reason": ""}
        return [(NOTIFY_CANCELLATION, payload)]
    if old_place is not None and event.status == "published":
        return [(NOTIFY_CHANGE, place_change_payload(event, old_place))]
    return []


def time_change_payload(
    event: Event, occurrence: Occurrence, change: dict[str, Any]
) -> dict[str, Any]:
    """The job payload of a moved date (``change`` from reschedule_occurrence)."""
    return {
        "event_id": str(event.id),
        "change": "time",
        "occurrence_id": str(occurrence.id),
        "sequence": ical_sequence(occurrence.sequence, event.place_sequence),
        "old": change["old"],
        "new": change["new"],
    }


def place_change_payload(event: Event, old: dict[str, Any]) -> dict[str, Any]:
    """The job payload of a changed place (``old``: venue and online_url before)."""
    return {
        "event_id": str(event.id),
        "change": "place",
        "place_sequence": event.place_sequence,
        "old": {"venue": old.get("venue"), "online_url": old.get("online_url")},
        "new": {"venue": event.venue, "online_url": event.online_url},
    }


def _date(occurrence: Occurrence, sequence: int) -> dict[str, Any]:
    return {
        "id": str(occurrence.id),
        "starts_at": occurrence.starts_at.isoformat(),
        "ends_at": occurrence.ends_at.isoformat(),
        "sequence": sequence,
    }


def notify_change(
    session: Session, *, event: Event, payload: dict[str, Any], now: datetime, job_id: uuid.UUID
) -> dict[str, int]:
    """Queue one change mail per recipient, exactly once each (dedupe key
    ``event_changed:<occurrence id>:<sequence>:<attendee id>`` for a date,
    ``event_changed:<event id>:p<place sequence>:<attendee id>`` for a place)."""
    occurrence = None
    if payload["change"] == "time":
        occurrence = session.get(Occurrence, uuid.UUID(payload["occurrence_id"]))
        assert occurrence is not None
        subject = f"{occurrence.id}:{payload['sequence']}"
        change = {"kind": "time", "old": payload["old"], "new": payload["new"]}
    else:
        subject = f"{event.id}:p{payload['place_sequence']}"
        change = {
            "kind": "place",
            "old": place_of(payload["old"]["venue"], payload["old"]["online_url"]),
            "new": place_of(payload["new"]["venue"], payload["new"]["online_url"]),
        }
    people = cancellation_recipients(session, event=event, occurrence=occurrence)
    keys = {person.id: f"{TEMPLATE}:{subject}:{person.id}" for person in people}
    already = (
        set(
            session.scalars(
                select(EmailMessage.dedupe_key).where(EmailMessage.dedupe_key.in_(keys.values()))
            )
        )
        if keys
        else set()
    )
    trainers = trainer_ids(session, event=event)
    shown = event_context(event)
    if payload["change"] == "place":
        shown |= place_of(payload["new"]["venue"], payload["new"]["online_url"])
    dates = _calendar_dates(session, event=event, occurrence=occurrence, payload=payload, now=now)
    queued = 0
    for person in people:
        if keys[person.id] in already:
            continue
        mine = dates.get(person.id, dates.get(None, []))
        context: dict[str, Any] = {
            "event": shown
            | (
                {"starts_at": payload["new"]["starts_at"], "ends_at": payload["new"]["ends_at"]}
                if payload["change"] == "time"
                else {}
            ),
            "attendee": attendee_context(person),
            "role": "trainer" if person.id in trainers else "attendee",
            "change": change,
            "calendar_dates": mine[:MAX_CALENDAR_DATES],
            "attach_calendar": bool(mine),
        }
        queue_email(
            session,
            organisation_id=event.organisation_id,
            template=TEMPLATE,
            to_address=person.email,
            to_name=person.name,
            context=context,
            now=now,
            job_id=job_id,
            dedupe_key=keys[person.id],
            about=(person.id, event.id),
        )
        queued += 1
    return {"recipients": len(people), "notified": queued, "already_notified": len(people) - queued}


def _calendar_dates(
    session: Session,
    *,
    event: Event,
    occurrence: Occurrence | None,
    payload: dict[str, Any],
    now: datetime,
) -> dict[uuid.UUID | None, list[dict[str, Any]]]:
    """The .ics dates of each recipient (key None: everyone's). A moved date:
    that date, at its new time with the change's SEQUENCE. A new place: each
    person's dates still to come (a trainer's: all of them), by start."""
    if occurrence is not None:
        moved = _date(occurrence, payload["sequence"])
        moved |= {"starts_at": payload["new"]["starts_at"], "ends_at": payload["new"]["ends_at"]}
        return {None: [moved]}
    live = live_dates(session, event=event, now=now)
    rows = {
        row.id: row
        for row in session.scalars(
            select(Occurrence).where(Occurrence.id.in_(live)).order_by(Occurrence.starts_at)
        )
    }

    def listed(ids: set[uuid.UUID]) -> list[dict[str, Any]]:
        chosen = sorted((rows[i] for i in ids if i in rows), key=lambda o: o.starts_at)
        return [
            _date(o, ical_sequence(o.sequence, payload["place_sequence"]))
            for o in chosen[:MAX_CALENDAR_DATES]
        ]

    out: dict[uuid.UUID | None, list[dict[str, Any]]] = {None: listed(set(rows))}
    for attendee_id, ids in dates_by_attendee(session, event=event, live=live).items():
        out[attendee_id] = listed(ids)
    return out


@handles(NOTIFY_CHANGE)
def apply_notify_change(session: Session, job: Job, now: datetime) -> dict[str, Any]:
    payload = job.payload
    event = session.get(Event, uuid.UUID(payload["event_id"]), populate_existing=True)
    assert event is not None
    counts = notify_change(session, event=event, payload=payload, now=now, job_id=job.id)
    return {"event_id": str(event.id), "change": payload["change"], **counts}
