"""The calendar's pure rules: which rows an event puts in the cache, and which
calls to action (CTAs) an entry offers an attendee. Data in, decision out;
table-tested in tests/unit/test_calendar_policy.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rollcall.domain.enrollment.seating import has_room

ACTIVE = ("enrolled", "waitlisted")
#: The scope of an attendee's end-user token, the credential every CTA names
#: (models.calendar.AUTHENTICATED; this module stays free of the models).
AUTHENTICATED = "AUTHENTICATED"
#: When one attendee holds several enrollments covering one occurrence, the
#: entry shows the strongest.
_STRENGTH = {"enrolled": 2, "waitlisted": 1}


@dataclass(frozen=True)
class EventFacts:
    id: uuid.UUID
    organisation_id: uuid.UUID
    type: str
    name: str
    timezone: str
    status: str
    cancelled: bool


@dataclass(frozen=True)
class OccurrenceFacts:
    id: uuid.UUID
    event_id: uuid.UUID
    starts_at: datetime
    ends_at: datetime
    cancelled: bool


@dataclass(frozen=True)
class EnrollmentFacts:
    id: uuid.UUID
    attendee_id: uuid.UUID
    scope_key: str
    status: str


def is_public(event: EventFacts) -> bool:
    """Published and not cancelled: every attendee of the organisation sees it."""
    return event.status == "published" and not event.cancelled


def names_a_session(scope_key: str) -> bool:
    """Whether an enrollment's coverage depends on its event's sessions: only
    a "sess:<id>" scope's does (``covered_occurrences``)."""
    return scope_key.partition(":")[0] == "sess"


def covered_occurrences(
    scope_key: str,
    occurrence_ids: Iterable[uuid.UUID],
    session_occurrences: Mapping[uuid.UUID, list[str] | None],
) -> set[uuid.UUID]:
    """The occurrences an enrollment's scope covers.

    "event" covers every occurrence; "occ:<id>" that one; "sess:<id>" the
    session's occurrences (all of them when the session lists none).
    """
    all_ids = set(occurrence_ids)
    kind, _, ident = scope_key.partition(":")
    if kind == "event":
        return all_ids
    try:
        target = uuid.UUID(ident)
    except ValueError:
        return set()
    if kind == "occ":
        return {target} & all_ids
    if kind == "sess":
        if target not in session_occurrences:
            return set()
        listed = session_occurrences[target]
        if listed is None:
            return all_ids
        wanted = set()
        for text in listed:
            try:
                wanted.add(uuid.UUID(str(text)))
            except ValueError:
                continue
        return wanted & all_ids
    return set()


def build_rows(
    event: EventFacts,
    occurrences: Iterable[OccurrenceFacts],
    *,
    session_occurrences: Mapping[uuid.UUID, list[str] | None],
    enrollments: Iterable[EnrollmentFacts],
    trainers: Iterable[uuid.UUID],
    bookmarks: Iterable[tuple[uuid.UUID, uuid.UUID]],
    include_public: bool = True,
) -> list[dict[str, Any]]:
    """The cache rows (without ``id``) this event contributes.

    A public row per occurrence of a public event that is not cancelled. A
    personal row per (attendee, occurrence) where the attendee is enrolled or
    waitlisted (by scope), is a trainer of the event, or bookmarked it while it
    is public. Personal rows stay when the event is cancelled or unpublished
    (flagged), so people see what happened to their own dates.
    """
    occurrences = list(occurrences)
    by_id = {occ.id: occ for occ in occurrences}
    public_ids = {occ.id for occ in occurrences if is_public(event) and not occ.cancelled}

    chosen = _strongest_enrollments(enrollments, by_id, session_occurrences)
    trainer_ids = set(trainers)
    marked = {(a, o) for a, o in bookmarks if o in by_id}

    audience: set[tuple[uuid.UUID, uuid.UUID]] = set(chosen)
    audience |= {(a, o) for a in trainer_ids for o in by_id}
    audience |= {(a, o) for a, o in marked if o in public_ids}

    rows: list[dict[str, Any]] = []
    if include_public:
        rows.extend(_base_row(event, by_id[occ_id], None) for occ_id in sorted(public_ids))
    for attendee_id, occ_id in sorted(audience):
        row = _base_row(event, by_id[occ_id], attendee_id)
        held = chosen.get((attendee_id, occ_id))
        if held is not None:
            row["enrollment_id"] = held.id
            row["enrollment_status"] = held.status
        row["is_trainer"] = attendee_id in trainer_ids
        row["bookmarked"] = (attendee_id, occ_id) in marked
        rows.append(row)
    return rows


def _strongest_enrollments(
    enrollments: Iterable[EnrollmentFacts],
    by_id: Mapping[uuid.UUID, OccurrenceFacts],
    session_occurrences: Mapping[uuid.UUID, list[str] | None],
) -> dict[tuple[uuid.UUID, uuid.UUID], EnrollmentFacts]:
    """Per (attendee, occurrence) covered, the active enrollment that shows:
    the strongest status, then the lowest id (stable whatever the read order)."""
    chosen: dict[tuple[uuid.UUID, uuid.UUID], EnrollmentFacts] = {}
    for enrollment in enrollments:
        if enrollment.status not in ACTIVE:
            continue
        for occ_id in covered_occurrences(enrollment.scope_key, by_id, session_occurrences):
            key = (enrollment.attendee_id, occ_id)
            held = chosen.get(key)
            rank = (_STRENGTH[enrollment.status], -enrollment.id.int)
            if held is None or rank > (_STRENGTH[held.status], -held.id.int):
                chosen[key] = enrollment
    return chosen


def _base_row(
    event: EventFacts, occ: OccurrenceFacts, attendee_id: uuid.UUID | None
) -> dict[str, Any]:
    """A row of the occurrence, public (no attendee) or personal, its flags off."""
    return {
        "organisation_id": event.organisation_id,
        "attendee_id": attendee_id,
        "occurrence_id": occ.id,
        "event_id": event.id,
        "starts_at": occ.starts_at,
        "ends_at": occ.ends_at,
        "event_type": event.type,
        "title": event.name,
        "timezone": event.timezone,
        "event_status": event.status,
        "cancelled": event.cancelled or occ.cancelled,
        "enrollment_id": None,
        "enrollment_status": None,
        "is_trainer": False,
        "bookmarked": False,
    }


# Calls to action ----------------------------------------------------------------


@dataclass(frozen=True)
class SeatState:
    """Read at request time: counters change with Core UPDATEs, never cached."""

    capacity: int | None
    enrolled: int
    waiting_list: bool


#: Every action ``calls_to_action`` can emit (a test follows each one literally).
CTA_ACTIONS = ("REGISTER", "JOIN_WAITING_LIST", "CANCEL_REGISTRATION", "TOGGLE_BOOKMARK")


def calls_to_action(
    *,
    entry_id: uuid.UUID,
    event_id: uuid.UUID,
    attendee_ref: str,
    enrollment_id: uuid.UUID | None,
    enrollment_status: str | None,
    bookmarked: bool,
    cancelled: bool,
    registration_open: bool,
    seats: SeatState,
    booked_per_date: bool = False,
) -> list[dict[str, Any]]:
    """The CTAs this entry offers this attendee, each with the call it makes.

    REGISTER: open (``registration_open``: the booking window rule the
    enrollment worker applies, domain.enrollment.booking_window, so an ended
    date never offers it), not cancelled, a seat free, not enrolled.
    JOIN_WAITING_LIST: the same, but full and the event keeps a waiting list.
    CANCEL_REGISTRATION: enrolled or waitlisted (and not cancelled).
    TOGGLE_BOOKMARK: always.

    Each call works sent exactly as given (``method``, ``href``, ``body``) with
    the attendee's own end-user token (scope AUTHENTICATED), the credential
    that read the calendar: the enrollment routes take it for its own
    attendee. On an event booked per date the enrollment names the entry's
    date (``occurrence_id``); the entry's id is that occurrence's id.
    """
    ctas: list[dict[str, Any]] = []
    enroll_body: dict[str, Any] = {"attendee": {"ref": attendee_ref}}
    if booked_per_date:
        enroll_body["occurrence_id"] = str(entry_id)
    enroll_call = {
        "method": "POST",
        "href": f"/v1/events/{event_id}/enrollments",
        "body": enroll_body,
        "scope": AUTHENTICATED,
    }
    if enrollment_status is None and registration_open and not cancelled:
        if has_room(seats.capacity, seats.enrolled):
            ctas.append({"action": "REGISTER", **enroll_call})
        elif seats.waiting_list:
            ctas.append({"action": "JOIN_WAITING_LIST", **enroll_call})
    if enrollment_status is not None and enrollment_id is not None and not cancelled:
        ctas.append(
            {
                "action": "CANCEL_REGISTRATION",
                "method": "POST",
                "href": f"/v1/events/{event_id}/enrollments/{enrollment_id}/cancel",
                "body": None,
                "scope": AUTHENTICATED,
            }
        )
    ctas.append(
        {
            "action": "TOGGLE_BOOKMARK",
            "method": "POST",
            "href": f"/v1/calendar/bookmarks/{entry_id}",
            "body": None,
            "scope": AUTHENTICATED,
            "bookmarked": bookmarked,
        }
    )
    return ctas
