"""The calendar on PostgreSQL + Redis + a Dramatiq worker + uvicorn over HTTP."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from icalendar import Calendar

from tests.support.calendar import BASE, add_attendee, add_event, calendar, issue_token, org_id
from tests.support.factories import enroll, published_event
from tests.support.stack import Stack


def test_enrollment_by_the_worker_shows_at_once_and_pages_on_postgres(
    real_stack: Stack,
) -> None:
    # Given a published event with a reminder and 120 public dates of another event
    key = real_stack.key()
    event = published_event(
        real_stack,
        key,
        ref="live",
        max_subscriptions=5,
        starts_at="2031-02-01T09:00:00Z",
        ends_at="2031-02-01T10:00:00Z",
    )
    with real_stack.db() as session:
        org = org_id(session)
        add_attendee(session, org, "ada")
        add_event(
            session,
            org,
            name="Series",
            reminder_before_minutes=60,
            starts=[BASE + timedelta(hours=i) for i in range(120)],
        )
    token = issue_token(real_stack, key, "ada")

    # When ada is enrolled through the API and the worker applies the job
    enroll(real_stack, key, "live", "ada")
    real_stack.drain()

    # Then her calendar shows the date as hers, cancellable, with no wait for a refresh
    first = calendar(real_stack, token, first=10).json()
    mine = first["entries"][0]
    assert (mine["event_id"], mine["personal"], mine["enrollment_status"]) == (
        event["id"],
        True,
        "enrolled",
    )
    assert [cta["action"] for cta in mine["ctas"]] == ["CANCEL_REGISTRATION", "TOGGLE_BOOKMARK"]
    assert mine["spots_available"] == 4

    # And the 121 entries page forward and back on PostgreSQL without gaps or repeats
    seen: list[dict[str, Any]] = list(first["entries"])
    info = first["page_info"]
    while info["has_next_page"]:
        body = calendar(real_stack, token, first=25, after=info["end_cursor"]).json()
        seen.extend(body["entries"])
        info = body["page_info"]
    assert len(seen) == len({entry["id"] for entry in seen}) == 121
    back: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"last": 40}
        if cursor:
            params["before"] = cursor
        body = calendar(real_stack, token, **params).json()
        back = body["entries"] + back
        if not body["page_info"]["has_previous_page"]:
            break
        cursor = body["page_info"]["start_cursor"]
    assert [entry["id"] for entry in back] == [entry["id"] for entry in seen]

    # And the iCalendar feed parses back with the reminder as a VALARM
    feed = real_stack.client.get(
        "/v1/calendar.ics", params={"token": token, "fromDate": "2031-01-01"}
    )
    parsed = Calendar.from_ical(feed.content)
    events = parsed.walk("VEVENT")
    assert len(events) == 121
    assert len(events[1].walk("VALARM")) == 1 and events[0].walk("VALARM") == []
