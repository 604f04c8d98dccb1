"""The calendar's pure rules, table-tested: coverage, rows, CTAs, cursors, query parsing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from rollcall.domain.calendar.cursor import decode_cursor, encode_cursor
from rollcall.domain.calendar.policy import (
    AUTHENTICATED,
    CTA_ACTIONS,
    EnrollmentFacts,
    EventFacts,
    OccurrenceFacts,
    SeatState,
    build_rows,
    calls_to_action,
    covered_occurrences,
)
from rollcall.domain.calendar.query import parse_calendar_query
from rollcall.domain.errors import InvalidCursor
from rollcall.models.calendar import AUTHENTICATED as TOKEN_SCOPE

O1, O2, O3 = (uuid.UUID(int=i) for i in (1, 2, 3))
S1 = uuid.UUID(int=10)
SESSIONS: dict[uuid.UUID, list[str] | None] = {S1: [str(O2), "junk"]}
START = datetime(2031, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("scope", "sessions", "covered"),
    [
        ("event", SESSIONS, {O1, O2, O3}),
        (f"occ:{O2}", SESSIONS, {O2}),
        (f"occ:{uuid.UUID(int=99)}", SESSIONS, set()),
        (f"sess:{S1}", SESSIONS, {O2}),
        (f"sess:{S1}", {S1: None}, {O1, O2, O3}),
        (f"sess:{uuid.UUID(int=98)}", SESSIONS, set()),
        ("occ:not-a-uuid", SESSIONS, set()),
        ("what:ever", SESSIONS, set()),
    ],
)
def test_covered_occurrences(
    scope: str, sessions: dict[uuid.UUID, list[str] | None], covered: set[uuid.UUID]
) -> None:
    assert covered_occurrences(scope, [O1, O2, O3], sessions) == covered


def _event(**changes: Any) -> EventFacts:
    base: dict[str, Any] = {
        "id": uuid.UUID(int=500),
        "organisation_id": uuid.UUID(int=600),
        "type": "TRAINING",
        "name": "E",
        "timezone": "UTC",
        "status": "published",
        "cancelled": False,
    }
    return EventFacts(**(base | changes))


def _occs(cancelled: tuple[uuid.UUID, ...] = ()) -> list[OccurrenceFacts]:
    return [
        OccurrenceFacts(occ, uuid.UUID(int=500), START + timedelta(days=n), START, occ in cancelled)
        for n, occ in enumerate((O1, O2, O3))
    ]


A, B = uuid.UUID(int=700), uuid.UUID(int=701)


@pytest.mark.parametrize(
    ("event", "cancelled", "enrollments", "trainers", "marks", "expected"),
    [
        # public event: three public rows, nobody personal
        (_event(), (), [], [], [], {(None, O1), (None, O2), (None, O3)}),
        # a cancelled date drops from the public rows
        (_event(), (O2,), [], [], [], {(None, O1), (None, O3)}),
        # draft: no public rows; an enrollment still shows (personal)
        (
            _event(status="draft"),
            (),
            [EnrollmentFacts(uuid.UUID(int=1), A, f"occ:{O1}", "enrolled")],
            [],
            [],
            {(A, O1)},
        ),
        # trainers see every date; bookmarks only of public dates
        (_event(status="draft"), (), [], [B], [(A, O1)], {(B, O1), (B, O2), (B, O3)}),
        (_event(), (O3,), [], [], [(A, O1), (A, O3)], {(None, O1), (None, O2), (A, O1)}),
        # ended enrollments show nothing
        (
            _event(cancelled=True),
            (),
            [EnrollmentFacts(uuid.UUID(int=1), A, "event", "cancelled")],
            [],
            [],
            set(),
        ),
    ],
)
def test_build_rows_audience(
    event: EventFacts,
    cancelled: tuple[uuid.UUID, ...],
    enrollments: list[EnrollmentFacts],
    trainers: list[uuid.UUID],
    marks: list[tuple[uuid.UUID, uuid.UUID]],
    expected: set[tuple[uuid.UUID | None, uuid.UUID]],
) -> None:
    rows = build_rows(
        event,
        _occs(cancelled),
        session_occurrences={},
        enrollments=enrollments,
        trainers=trainers,
        bookmarks=marks,
    )
    assert {(row["attendee_id"], row["occurrence_id"]) for row in rows} == expected


def test_strongest_enrollment_wins_on_one_date() -> None:
    waiting = EnrollmentFacts(uuid.UUID(int=1), A, "event", "waitlisted")
    seat = EnrollmentFacts(uuid.UUID(int=2), A, f"occ:{O2}", "enrolled")
    rows = build_rows(
        _event(),
        _occs(),
        session_occurrences={},
        enrollments=[waiting, seat],
        trainers=[],
        bookmarks=[],
        include_public=False,
    )
    status = {row["occurrence_id"]: row["enrollment_status"] for row in rows}
    assert status == {O1: "waitlisted", O2: "enrolled", O3: "waitlisted"}


def _actions(**changes: Any) -> list[str]:
    base: dict[str, Any] = {
        "entry_id": O1,
        "event_id": O2,
        "attendee_ref": "ada",
        "enrollment_id": None,
        "enrollment_status": None,
        "bookmarked": False,
        "cancelled": False,
        "registration_open": True,
        "seats": SeatState(10, 3, False),
    }
    return [cta["action"] for cta in calls_to_action(**(base | changes))]


@pytest.mark.parametrize(
    ("changes", "actions"),
    [
        ({}, ["REGISTER", "TOGGLE_BOOKMARK"]),
        ({"seats": SeatState(None, 999, False)}, ["REGISTER", "TOGGLE_BOOKMARK"]),
        ({"seats": SeatState(3, 3, True)}, ["JOIN_WAITING_LIST", "TOGGLE_BOOKMARK"]),
        ({"seats": SeatState(3, 3, False)}, ["TOGGLE_BOOKMARK"]),
        ({"registration_open": False}, ["TOGGLE_BOOKMARK"]),
        ({"cancelled": True}, ["TOGGLE_BOOKMARK"]),
        (
            {"enrollment_status": "enrolled", "enrollment_id": O3},
            ["CANCEL_REGISTRATION", "TOGGLE_BOOKMARK"],
        ),
        (
            {"enrollment_status": "waitlisted", "enrollment_id": O3},
            ["CANCEL_REGISTRATION", "TOGGLE_BOOKMARK"],
        ),
        (
            {"enrollment_status": "enrolled", "enrollment_id": O3, "cancelled": True},
            ["TOGGLE_BOOKMARK"],
        ),
    ],
)
def test_calls_to_action(changes: dict[str, Any], actions: list[str]) -> None:
    assert _actions(**changes) == actions


def _ctas(**changes: Any) -> dict[str, dict[str, Any]]:
    base: dict[str, Any] = {
        "entry_id": O1,
        "event_id": O2,
        "attendee_ref": "ada",
        "enrollment_id": None,
        "enrollment_status": None,
        "bookmarked": False,
        "cancelled": False,
        "registration_open": True,
        "seats": SeatState(10, 3, True),
    }
    return {cta["action"]: cta for cta in calls_to_action(**(base | changes))}


def test_every_call_names_the_attendee_token_and_a_route_that_takes_it() -> None:
    # The scope is the end-user token's (the credential that read the calendar)
    assert AUTHENTICATED == TOKEN_SCOPE
    offered = _ctas() | _ctas(enrollment_status="enrolled", enrollment_id=O3)
    offered |= _ctas(seats=SeatState(3, 3, True))
    assert set(offered) == set(CTA_ACTIONS)
    assert {cta["scope"] for cta in offered.values()} == {AUTHENTICATED}
    cancel = offered["CANCEL_REGISTRATION"]
    assert (cancel["method"], cancel["href"], cancel["body"]) == (
        "POST",
        f"/v1/events/{O2}/enrollments/{O3}/cancel",
        None,
    )


@pytest.mark.parametrize("action", ["REGISTER", "JOIN_WAITING_LIST"])
def test_enrolling_on_an_event_booked_per_date_names_the_entry_s_date(action: str) -> None:
    seats = SeatState(3, 3, True) if action == "JOIN_WAITING_LIST" else SeatState(3, 0, True)
    whole = _ctas(seats=seats)[action]
    per_date = _ctas(seats=seats, booked_per_date=True)[action]
    assert whole["body"] == {"attendee": {"ref": "ada"}}
    assert per_date["body"] == {"attendee": {"ref": "ada"}, "occurrence_id": str(O1)}
    assert per_date["href"] == whole["href"] == f"/v1/events/{O2}/enrollments"


# Cursors ----------------------------------------------------------------------------------


def test_cursor_round_trips_and_refuses_tampering() -> None:
    key = (datetime(2031, 1, 2, 3, 4, 5, 678901, tzinfo=UTC), uuid.uuid4())
    cursor = encode_cursor(key, secret="s3cret-s3cret")
    assert decode_cursor(cursor, secret="s3cret-s3cret") == key
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor, secret="another-secret")
    version, body, mac = cursor.split(".")
    for spot in range(len(body)):
        for char in "AQgw":  # differ from each other in the bits base64 may leave spare
            edited = body[:spot] + char + body[spot + 1 :]
            if edited != body:
                with pytest.raises(InvalidCursor):
                    decode_cursor(f"{version}.{edited}.{mac}", secret="s3cret-s3cret")
    for bad in ("", "c1", "c1.a.b", cursor + "x", cursor.replace("c1.", "c2."), "c1..", "💥"):
        with pytest.raises(InvalidCursor):
            decode_cursor(bad, secret="s3cret-s3cret")


def test_query_defaults_and_dates() -> None:
    query = parse_calendar_query(from_date="2031-01-01", secret="x" * 8)
    assert query.from_date == datetime(2031, 1, 1, tzinfo=UTC)
    assert (query.size, query.backward, query.cursor, query.to_date) == (20, False, None, None)
    offset = parse_calendar_query(from_date="2031-01-01T10:00:00+02:00", secret="x" * 8)
    assert offset.from_date == datetime(2031, 1, 1, 8, tzinfo=UTC)
    naive = parse_calendar_query(from_date="2031-01-01T10:00:00", secret="x" * 8)
    assert naive.from_date == datetime(2031, 1, 1, 10, tzinfo=UTC)
    same = parse_calendar_query(from_date="2031-01-01", to_date="2031-01-01", secret="x" * 8)
    assert same.to_date == same.from_date
