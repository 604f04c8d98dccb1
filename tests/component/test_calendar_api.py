"""The calendar over HTTP on SQLite: tokens, errors, merging, CTAs, bookmarks, iCal."""

from __future__ import annotations

from datetime import timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select, update

from rollcall.domain.access.attendee_tokens import authenticate_end_user
from rollcall.domain.calendar.listing import list_calendar
from rollcall.domain.calendar.query import parse_calendar_query
from rollcall.domain.clock import utcnow
from rollcall.intake.calendar_schemas import CalendarOut, calendar_json
from rollcall.models import Attendee, AttendeeToken, Trainer
from tests.support.calendar import (
    BASE,
    NOW,
    add_attendee,
    add_enrollment,
    add_event,
    calendar,
    issue_token,
    org_id,
)
from tests.support.factories import enroll, published_event
from tests.support.stack import Stack

HOUR = timedelta(hours=1)


def _ids(body: dict[str, object]) -> list[str]:
    return [entry["id"] for entry in body["entries"]]  # type: ignore[attr-defined, index]


@pytest.fixture
def ada(component_stack: Stack) -> tuple[str, str]:
    """An organisation key and an end-user token for attendee "ada"."""
    key = component_stack.key()
    with component_stack.db() as session:
        add_attendee(session, org_id(session), "ada")
    return key, issue_token(component_stack, key, "ada")


# Tokens and authentication ---------------------------------------------------------


def test_token_is_issued_for_a_known_attendee_only(component_stack: Stack) -> None:
    key = component_stack.key()
    with component_stack.db() as session:
        add_attendee(session, org_id(session), "ada")
    response = component_stack.client.post(
        "/v1/attendees/ada/tokens", headers=component_stack.auth(key)
    )
    assert response.status_code == 201
    body = response.json()
    assert body["token"].startswith("rct_") and body["scopes"] == ["AUTHENTICATED"]

    missing = component_stack.client.post(
        "/v1/attendees/nobody/tokens", headers=component_stack.auth(key)
    )
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "ATTENDEE_NOT_FOUND")

    reader = component_stack.key(scopes=["events:read"])
    refused = component_stack.client.post(
        "/v1/attendees/ada/tokens", headers=component_stack.auth(reader)
    )
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "INSUFFICIENT_SCOPE")


def test_token_of_another_organisation_attendee_is_not_found(component_stack: Stack) -> None:
    key = component_stack.key()
    other = component_stack.key(org="globex")
    with component_stack.db() as session:
        add_attendee(session, org_id(session), "ada")
    response = component_stack.client.post(
        "/v1/attendees/ada/tokens", headers=component_stack.auth(other)
    )
    assert response.status_code == 404
    assert key != other


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({}, 401, "INVALID_TOKEN"),
        ({"Authorization": "Bearer rct_not-a-token"}, 401, "INVALID_TOKEN"),
        ({"Authorization": "Bearer rc_not-a-key"}, 401, "INVALID_TOKEN"),
    ],
)
def test_calendar_refuses_anonymous_and_unknown_tokens(
    component_stack: Stack, headers: dict[str, str], status: int, code: str
) -> None:
    response = component_stack.client.get("/v1/calendar?fromDate=2030-01-01", headers=headers)
    assert (response.status_code, response.json()["error"]["code"]) == (status, code)
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_calendar_refuses_an_api_key_as_lacking_the_scope(component_stack: Stack) -> None:
    key = component_stack.key()
    response = calendar(component_stack, key)
    assert (response.status_code, response.json()["error"]["code"]) == (403, "INSUFFICIENT_SCOPE")


# Every seed-004 error with its own code -------------------------------------------------


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"fromDate": None}, "FROM_DATE_REQUIRED"),
        ({"fromDate": ""}, "FROM_DATE_REQUIRED"),
        ({"fromDate": "yesterday"}, "INVALID_DATE"),
        ({"fromDate": "2030-13-01"}, "INVALID_DATE"),
        ({"toDate": "2030-02-30T00:00:00Z"}, "INVALID_DATE"),
        ({"toDate": "2029-12-31T00:00:00Z"}, "INVALID_DATE_RANGE"),
        ({"after": "c1.x.y"}, "AFTER_WITHOUT_FIRST"),
        ({"before": "c1.x.y"}, "BEFORE_WITHOUT_LAST"),
        ({"first": "5", "last": "5"}, "CONFLICTING_PAGINATION"),
        ({"first": "5", "before": "c1.x.y"}, "CONFLICTING_PAGINATION"),
        ({"after": "c1.x.y", "last": "5"}, "CONFLICTING_PAGINATION"),
        ({"first": "5", "after": "garbage"}, "INVALID_CURSOR"),
        ({"last": "5", "before": "c1.AAAA.AAAA"}, "INVALID_CURSOR"),
        ({"first": "0"}, "INVALID_PAGE_SIZE"),
        ({"first": "1000"}, "INVALID_PAGE_SIZE"),
        ({"last": "many"}, "INVALID_PAGE_SIZE"),
        ({"type": "PARTY"}, "INVALID_EVENT_TYPE"),
    ],
)
def test_each_bad_request_has_its_own_code(
    component_stack: Stack, ada: tuple[str, str], params: dict[str, str | None], code: str
) -> None:
    _key, token = ada
    query = {"fromDate": "2030-01-01T00:00:00Z"} | params
    query = {name: value for name, value in query.items() if value is not None}
    response = component_stack.client.get(
        "/v1/calendar", params=query, headers=component_stack.auth(token)
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == code


def test_a_tampered_cursor_is_refused(component_stack: Stack, ada: tuple[str, str]) -> None:
    _key, token = ada
    with component_stack.db() as session:
        add_event(session, org_id(session), starts=[BASE + timedelta(days=i) for i in range(3)])
    cursor = calendar(component_stack, token, first=1).json()["page_info"]["end_cursor"]
    version, body, mac = cursor.split(".")
    forged = f"{version}.{body[:-1]}{'A' if body[-1] != 'A' else 'B'}.{mac}"
    response = calendar(component_stack, token, first=1, after=forged)
    assert response.json()["error"]["code"] == "INVALID_CURSOR"
    assert calendar(component_stack, token, first=1, after=cursor).status_code == 200


# Contents: personal + public, CTAs, live updates ---------------------------------------------


def test_personal_and_public_entries_merge_without_duplicates(
    component_stack: Stack, ada: tuple[str, str]
) -> None:
    _key, token = ada
    with component_stack.db() as session:
        org = org_id(session)
        ada_row = add_attendee(session, org, "ada-twin")  # someone else
        public = add_event(session, org, name="Public", starts=[BASE, BASE + timedelta(days=2)])
        draft = add_event(session, org, name="Draft", status="draft", starts=[BASE])
        trained = add_event(
            session, org, name="Trained", status="draft", starts=[BASE + timedelta(days=1)]
        )
        add_event(session, org, name="Off", cancelled=True, starts=[BASE])
        me = session.scalars(select(Attendee).where(Attendee.ref == "ada")).one()
        add_enrollment(session, public, me)
        add_enrollment(session, draft, ada_row)
        session.add(Trainer(event_id=trained.id, attendee_id=me.id))
        session.flush()

    body = calendar(component_stack, token).json()
    titles = [(entry["title"], entry["personal"]) for entry in body["entries"]]
    # Then: the public event's two dates (personal, since enrolled), and the draft
    # event ada trains; never another's draft enrollment or a cancelled event.
    assert titles == [("Public", True), ("Trained", True), ("Public", True)]
    assert len(set(_ids(body))) == 3
    trainer = body["entries"][1]
    assert trainer["trainer"] is True and trainer["enrollment_status"] is None
    starts = [entry["starts_at"]["utc"] for entry in body["entries"]]
    assert starts == sorted(starts)


def test_ctas_follow_seats_read_live(component_stack: Stack, ada: tuple[str, str]) -> None:
    key, token = ada
    # Given an open event with one seat and a waiting list
    event = published_event(
        component_stack,
        key,
        ref="seat",
        max_subscriptions=1,
        waiting_list=True,
        starts_at="2031-05-01T09:00:00Z",
        ends_at="2031-05-01T10:00:00Z",
    )
    entry = calendar(component_stack, token).json()["entries"][0]
    actions = [cta["action"] for cta in entry["ctas"]]
    assert actions == ["REGISTER", "TOGGLE_BOOKMARK"]
    register = entry["ctas"][0]
    assert register["href"] == f"/v1/events/{event['id']}/enrollments"
    assert register["body"] == {"attendee": {"ref": "ada"}}
    assert register["scope"] == "AUTHENTICATED"  # the attendee's own token

    # When someone else takes the seat (a Core UPDATE of the counter)
    enroll(component_stack, key, "seat", "bob")
    component_stack.drain()

    # Then ada is offered the waiting list
    entry = calendar(component_stack, token).json()["entries"][0]
    assert [cta["action"] for cta in entry["ctas"]] == ["JOIN_WAITING_LIST", "TOGGLE_BOOKMARK"]
    assert entry["spots_available"] == 0

    # And once ada is waitlisted by the worker, the entry is personal and cancellable
    enroll(component_stack, key, "seat", "ada")
    component_stack.drain()
    entry = calendar(component_stack, token).json()["entries"][0]
    assert (entry["personal"], entry["enrollment_status"]) == (True, "waitlisted")
    cancel = entry["ctas"][0]
    assert cancel["action"] == "CANCEL_REGISTRATION"
    assert (cancel["method"], cancel["body"], cancel["scope"]) == ("POST", None, "AUTHENTICATED")
    assert cancel["href"] == (
        f"/v1/events/{event['id']}/enrollments/{entry['enrollment_id']}/cancel"
    )


def test_full_event_without_waiting_list_offers_only_the_bookmark(
    component_stack: Stack, ada: tuple[str, str]
) -> None:
    key, token = ada
    published_event(
        component_stack,
        key,
        ref="tiny",
        max_subscriptions=1,
        starts_at="2031-05-01T09:00:00Z",
        ends_at="2031-05-01T10:00:00Z",
    )
    enroll(component_stack, key, "tiny", "bob")
    component_stack.drain()
    entry = calendar(component_stack, token).json()["entries"][0]
    assert [cta["action"] for cta in entry["ctas"]] == ["TOGGLE_BOOKMARK"]


def test_type_filter(component_stack: Stack, ada: tuple[str, str]) -> None:
    _key, token = ada
    with component_stack.db() as session:
        org = org_id(session)
        add_event(session, org, name="Web", type="WEBINAR", starts=[BASE])
        add_event(session, org, name="Meet", type="MEETING", starts=[BASE])
    body = calendar(component_stack, token, type="WEBINAR").json()
    assert [entry["title"] for entry in body["entries"]] == ["Web"]
    both = calendar(component_stack, token, type="webinar,MEETING").json()
    assert len(both["entries"]) == 2


# Bookmarks -----------------------------------------------------------------------------------


def test_bookmark_toggles_shows_and_filters(component_stack: Stack, ada: tuple[str, str]) -> None:
    _key, token = ada
    with component_stack.db() as session:
        add_event(session, org_id(session), starts=[BASE, BASE + timedelta(days=1)])
    first, second = _ids(calendar(component_stack, token).json())

    marked = component_stack.client.post(
        f"/v1/calendar/bookmarks/{second}", headers=component_stack.auth(token)
    )
    assert marked.json() == {"entry": second, "bookmarked": True}
    body = calendar(component_stack, token).json()
    assert [entry["bookmarked"] for entry in body["entries"]] == [False, True]
    toggle = body["entries"][1]["ctas"][-1]
    assert (toggle["action"], toggle["bookmarked"]) == ("TOGGLE_BOOKMARK", True)
    assert _ids(calendar(component_stack, token, bookmarked="true").json()) == [second]

    unmarked = component_stack.client.post(
        f"/v1/calendar/bookmarks/{second}", headers=component_stack.auth(token)
    )
    assert unmarked.json()["bookmarked"] is False
    assert _ids(calendar(component_stack, token, bookmarked="true").json()) == []
    # ...and the entry never toggled was never bookmarked
    body = calendar(component_stack, token).json()
    assert _ids(body) == [first, second]
    assert [entry["bookmarked"] for entry in body["entries"]] == [False, False]


@pytest.mark.parametrize("entry", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
def test_bookmark_of_an_unknown_entry_is_not_found(
    component_stack: Stack, ada: tuple[str, str], entry: str
) -> None:
    _key, token = ada
    response = component_stack.client.post(
        f"/v1/calendar/bookmarks/{entry}", headers=component_stack.auth(token)
    )
    assert (response.status_code, response.json()["error"]["code"]) == (
        404,
        "CALENDAR_ENTRY_NOT_FOUND",
    )


def test_bookmark_of_a_draft_event_is_not_found(
    component_stack: Stack, ada: tuple[str, str]
) -> None:
    _key, token = ada
    with component_stack.db() as session:
        draft = add_event(session, org_id(session), status="draft", starts=[BASE])
        occurrence = draft.occurrences[0].id
    response = component_stack.client.post(
        f"/v1/calendar/bookmarks/{occurrence}", headers=component_stack.auth(token)
    )
    assert response.status_code == 404


# iCalendar ---------------------------------------------------------------------------------


def test_ics_feed_parses_back_with_alarms(component_stack: Stack, ada: tuple[str, str]) -> None:
    _key, token = ada
    with component_stack.db() as session:
        org = org_id(session)
        add_event(
            session,
            org,
            name="Reminded",
            reminder_before_minutes=1440,
            starts=[BASE, BASE + timedelta(days=7)],
        )
        add_event(session, org, name="Plain", starts=[BASE + timedelta(days=1)])

    response = component_stack.client.get(
        "/v1/calendar.ics", params={"token": token, "fromDate": "2030-01-01"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    parsed = Calendar.from_ical(response.content)
    events = parsed.walk("VEVENT")
    assert [str(event["SUMMARY"]) for event in events] == ["Reminded", "Plain", "Reminded"]
    assert events[0]["DTSTART"].dt == BASE
    assert events[0]["DTEND"].dt == BASE + timedelta(minutes=60)
    alarms = events[0].walk("VALARM")
    assert len(alarms) == 1 and alarms[0]["TRIGGER"].dt == timedelta(minutes=-1440)
    assert events[1].walk("VALARM") == []
    assert len({str(event["UID"]) for event in events}) == 3
    assert str(parsed["VERSION"]) == "2.0" and "PRODID" in parsed


def test_ics_feed_needs_a_token(component_stack: Stack, ada: tuple[str, str]) -> None:
    key, _token = ada
    assert component_stack.client.get("/v1/calendar.ics").status_code == 401
    assert (
        component_stack.client.get("/v1/calendar.ics", params={"token": "rct_x"}).status_code == 401
    )
    assert component_stack.client.get("/v1/calendar.ics", params={"token": key}).status_code == 403


def test_ics_feed_takes_the_token_in_the_authorization_header(
    component_stack: Stack, ada: tuple[str, str]
) -> None:
    # Given an attendee's calendar with one event
    _key, token = ada
    with component_stack.db() as session:
        add_event(session, org_id(session), name="Headed", starts=[BASE])

    # When a calendar client sends the token as a bearer header, not in the URL
    response = component_stack.client.get(
        "/v1/calendar.ics", params={"fromDate": "2030-01-01"}, headers=component_stack.auth(token)
    )

    # Then the feed answers, and the header is what counts when both are sent
    assert response.status_code == 200, response.text
    summaries = [
        str(event["SUMMARY"])
        for event in Calendar.from_ical(response.content).walk()
        if event.name == "VEVENT"
    ]
    assert summaries == ["Headed"]
    both = component_stack.client.get(
        "/v1/calendar.ics", params={"token": token}, headers=component_stack.auth("rct_unknown")
    )
    assert (both.status_code, both.json()["error"]["code"]) == (401, "INVALID_TOKEN")


def test_revoked_token_and_other_organisations_stay_out(
    component_stack: Stack, ada: tuple[str, str]
) -> None:
    _key, token = ada
    # Given another organisation with a published event
    component_stack.key(org="globex")
    with component_stack.db() as session:
        theirs = add_event(session, org_id(session, "globex"), name="Theirs", starts=[BASE])
        their_date = theirs.occurrences[0].id

    # Then ada neither sees nor bookmarks it
    assert calendar(component_stack, token).json()["entries"] == []
    response = component_stack.client.post(
        f"/v1/calendar/bookmarks/{their_date}", headers=component_stack.auth(token)
    )
    assert response.status_code == 404

    # And once her token is revoked it is refused
    with component_stack.db() as session:
        session.execute(update(AttendeeToken).values(revoked_at=NOW))
    refused = calendar(component_stack, token)
    assert (refused.status_code, refused.json()["error"]["code"]) == (401, "INVALID_TOKEN")


def test_wire_body_is_the_documented_model_byte_for_byte(
    component_stack: Stack, ada: tuple[str, str]
) -> None:
    """The route serialises plain dicts (calendar_json) for speed; what it sends
    must be exactly what CalendarOut, the documented response model, would."""
    _key, token = ada
    with component_stack.db() as session:
        org = org_id(session)
        me = session.scalars(select(Attendee).where(Attendee.ref == "ada")).one()
        enrolled = add_event(session, org, name="Mine", starts=[BASE], max_subscriptions=5)
        add_enrollment(session, enrolled, me)
        add_event(session, org, name="Open", timezone="America/New_York", starts=[BASE + HOUR])
        trained = add_event(session, org, name="Trained", starts=[BASE + timedelta(days=1)])
        session.add(Trainer(event_id=trained.id, attendee_id=me.id))
    everything = calendar(component_stack, token).json()["entries"]
    assert [entry["title"] for entry in everything] == ["Mine", "Open", "Trained"]
    component_stack.client.post(
        f"/v1/calendar/bookmarks/{everything[2]['id']}", headers=component_stack.auth(token)
    )

    after = everything[0]["cursor"]
    response = calendar(component_stack, token, first="2", after=after)
    secret = component_stack.settings.calendar_cursor_secret
    with component_stack.db() as session:
        page = list_calendar(
            session,
            user=authenticate_end_user(session, token, now=utcnow()),
            query=parse_calendar_query(
                from_date="2030-01-01T00:00:00Z", first="2", after=after, secret=secret
            ),
            now=utcnow(),
            secret=secret,
        )
    expected = CalendarOut.of(page).model_dump_json().encode()
    assert calendar_json(page) == expected
    assert response.content == expected
    open_, trained_ = response.json()["entries"]
    assert (open_["title"], open_["personal"], open_["bookmarked"]) == ("Open", False, False)
    assert open_["starts_at"]["local"].endswith(("-05:00", "-04:00"))
    assert (trained_["trainer"], trained_["bookmarked"]) == (True, True)
    assert trained_["ctas"][-1] == {
        "action": "TOGGLE_BOOKMARK",
        "method": "POST",
        "href": f"/v1/calendar/bookmarks/{trained_['id']}",
        "body": None,
        "scope": "AUTHENTICATED",
        "bookmarked": True,
    }
    assert all(cta["bookmarked"] is None for cta in open_["ctas"][:-1])
