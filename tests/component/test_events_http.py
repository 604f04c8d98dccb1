"""Event management over HTTP on SQLite: create, list, show, PATCH, publish,
unpublish, delete, copy. Every route and each of its error codes."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from rollcall.models import EventSession
from tests.support.event_helpers import DAILY, call, make_attendee, ok, refused
from tests.support.factories import create_event, enroll, published_event
from tests.support.stack import Stack


@pytest.fixture(autouse=True)
def _long_horizon(component_stack: Stack) -> None:
    # The test dates are in 2030: expand that far ahead.
    component_stack.settings.occurrence_horizon_days = 3650


def test_create_with_the_whole_model_and_a_rule(component_stack: Stack) -> None:
    # Given an organiser with a trainer on file
    key = component_stack.key()
    make_attendee(component_stack, "trainer-tess")

    # When they create a recurring event with every setting
    body: dict[str, Any] = {
        "name": "Evening course",
        "type": "COURSE",
        "ref": "course-1",
        "description": "Five evenings",
        "timezone": "Europe/Amsterdam",
        "max_subscriptions": 20,
        "min_subscriptions": 5,
        "waiting_list": True,
        "registration_end": "2030-01-01T00:00:00Z",
        "booking_start": "2029-06-01T00:00:00Z",
        "price": "125.50",
        "max_per_attendee": 1,
        "reminder_before_minutes": 1440,
        "reminder_after_minutes": 60,
        "recurrence": DAILY,
        "trainers": {"refs": ["trainer-tess"]},
    }
    event = ok(call(component_stack, key, "POST", "/v1/events", json=body), 201)

    # Then it is a draft with five occurrences, times in UTC and local time
    assert (event["status"], event["type"], event["price"]) == ("draft", "COURSE", "125.50")
    assert (event["reminder_before_minutes"], event["reminder_after_minutes"]) == (1440, 60)
    assert event["recurrence"]["type"] == "daily"
    assert event["starts_at"]["utc"] == "2030-01-07T08:00:00Z"
    assert event["starts_at"]["local"] == "2030-01-07T09:00:00+01:00"
    assert event["ends_at"]["local"] == "2030-01-11T10:30:00+01:00"
    occurrences = ok(call(component_stack, key, "GET", "/v1/events/course-1/occurrences"))
    assert [o["starts_at"]["local"][:16] for o in occurrences["items"]] == [
        f"2030-01-{day:02d}T09:00" for day in range(7, 12)
    ]
    assert occurrences["next_cursor"] is None
    trainers = ok(call(component_stack, key, "GET", "/v1/events/course-1/trainers"))
    assert [t["ref"] for t in trainers] == ["trainer-tess"]


def test_create_with_explicit_dates(component_stack: Stack) -> None:
    key = component_stack.key()
    dates = [
        {"starts_at": "2030-09-19T09:00:00Z", "ends_at": "2030-09-19T12:00:00Z"},
        {"starts_at": "2030-09-12T09:00:00Z", "ends_at": "2030-09-12T12:00:00Z"},
    ]
    event = create_event(component_stack, key, ref="sept", dates=dates)
    assert event["starts_at"]["utc"] == "2030-09-12T09:00:00Z"
    assert event["ends_at"]["utc"] == "2030-09-19T12:00:00Z"
    items = ok(call(component_stack, key, "GET", "/v1/events/sept/occurrences"))["items"]
    assert [o["starts_at"]["utc"] for o in items] == [
        "2030-09-12T09:00:00Z",
        "2030-09-19T09:00:00Z",
    ]


def test_create_validation(component_stack: Stack) -> None:
    key = component_stack.key()
    base = {"name": "x", "type": "MEETING"}
    bad = [
        {"name": "x"},  # type is required
        base | {"type": "PARTY"},
        base | {"name": "n" * 76},
        base | {"description": "d" * 2501},
        base | {"timezone": "Mars/Olympus"},
        base | {"recurrence": DAILY, "dates": []},
        base | {"recurrence": DAILY | {"type": "hourly"}},
        base | {"recurrence": DAILY | {"ends": {"type": "after"}}},
        base | {"recurrence": {"type": "timeslots", "starts_on": "2030-01-01T00:00:00"}},
        base | {"recurrence": DAILY | {"starts_on": "2030-01-07T09:00:00+01:00"}},
        base
        | {"dates": [{"starts_at": "2030-01-01T10:00:00Z", "ends_at": "2030-01-01T09:00:00Z"}]},
    ]
    for body in bad:
        refused(
            call(component_stack, key, "POST", "/v1/events", json=body), 422, "VALIDATION_ERROR"
        )
    create_event(component_stack, key, ref="taken")
    refused(
        call(component_stack, key, "POST", "/v1/events", json=base | {"ref": "taken"}),
        409,
        "EVENT_REF_TAKEN",
    )


def test_list_filters_and_cursor_pagination(component_stack: Stack) -> None:
    # Given five events of two types, two of them published
    key = component_stack.key()
    for i in range(5):
        create_event(
            component_stack,
            key,
            ref=f"e{i}",
            type="WEBINAR" if i % 2 else "MEETING",
            starts_at=f"2030-0{i + 1}-01T09:00:00Z",
            ends_at=f"2030-0{i + 1}-01T10:00:00Z",
        )
    for ref in ("e1", "e3"):
        ok(call(component_stack, key, "POST", f"/v1/events/{ref}/publish"))

    # When listing two at a time, the pages cover every event once, in order
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = ok(call(component_stack, key, "GET", "/v1/events", params=params))
        seen += [e["ref"] for e in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["e0", "e1", "e2", "e3", "e4"]

    def refs(**params: Any) -> list[str]:
        return [
            e["ref"]
            for e in ok(call(component_stack, key, "GET", "/v1/events", params=params))["items"]
        ]

    assert refs(status="published") == ["e1", "e3"]
    assert refs(type="MEETING") == ["e0", "e2", "e4"]
    assert refs(**{"from": "2030-02-01T00:00:00Z", "to": "2030-04-01T00:00:00Z"}) == ["e1", "e2"]
    refused(
        call(component_stack, key, "GET", "/v1/events", params={"cursor": "nope"}),
        422,
        "INVALID_CURSOR",
    )
    refused(
        call(
            component_stack,
            key,
            "GET",
            "/v1/events",
            params={"from": "2030-02-01T00:00:00Z", "to": "2030-01-01T00:00:00Z"},
        ),
        422,
        "INVALID_DATE_RANGE",
    )
    refused(
        call(component_stack, key, "GET", "/v1/events", params={"status": "gone"}),
        422,
        "VALIDATION_ERROR",
    )


def test_occurrences_pagination_and_range(component_stack: Stack) -> None:
    key = component_stack.key()
    create_event(component_stack, key, ref="r", recurrence=DAILY)
    first = ok(call(component_stack, key, "GET", "/v1/events/r/occurrences", params={"limit": 3}))
    second = ok(
        call(
            component_stack,
            key,
            "GET",
            "/v1/events/r/occurrences",
            params={"limit": 3, "cursor": first["next_cursor"]},
        )
    )
    assert len(first["items"]) == 3 and len(second["items"]) == 2
    assert second["next_cursor"] is None
    ranged = ok(
        call(
            component_stack,
            key,
            "GET",
            "/v1/events/r/occurrences",
            params={"from": "2030-01-08T00:00:00Z", "to": "2030-01-10T00:00:00Z"},
        )
    )
    assert [o["starts_at"]["utc"][:10] for o in ranged["items"]] == ["2030-01-08", "2030-01-09"]
    refused(
        call(component_stack, key, "GET", "/v1/events/r/occurrences", params={"cursor": "x"}),
        422,
        "INVALID_CURSOR",
    )
    refused(
        call(component_stack, key, "GET", "/v1/events/none/occurrences"), 404, "EVENT_NOT_FOUND"
    )


def test_show_by_id_or_ref_and_tenancy(component_stack: Stack) -> None:
    ours, theirs = component_stack.key("acme"), component_stack.key("globex")
    event = create_event(component_stack, ours, ref="mine")
    assert ok(call(component_stack, ours, "GET", f"/v1/events/{event['id']}"))["ref"] == "mine"
    for path in (
        f"/v1/events/{event['id']}",
        "/v1/events/mine/occurrences",
        "/v1/events/mine/sessions",
        "/v1/events/mine/trainers",
    ):
        refused(call(component_stack, theirs, "GET", path), 404, "EVENT_NOT_FOUND")
    for method, path in (("PATCH", "/v1/events/mine"), ("DELETE", "/v1/events/mine")):
        refused(call(component_stack, theirs, method, path, json={}), 404, "EVENT_NOT_FOUND")


def test_scopes(component_stack: Stack) -> None:
    owner = component_stack.key()
    reader = component_stack.key(scopes=["events:read"])
    create_event(component_stack, owner, ref="s")
    ok(call(component_stack, reader, "GET", "/v1/events/s"))
    for method, path in (
        ("PATCH", "/v1/events/s"),
        ("POST", "/v1/events/s/publish"),
        ("POST", "/v1/events/s/cancel"),
        ("DELETE", "/v1/events/s"),
        ("POST", "/v1/events/s/sessions"),
    ):
        refused(call(component_stack, reader, method, path, json={}), 403, "INSUFFICIENT_SCOPE")
    refused(component_stack.client.get("/v1/events"), 401, "INVALID_API_KEY")


def test_patch_follows_the_lifecycle(component_stack: Stack) -> None:
    # Given a draft event
    key = component_stack.key()
    create_event(component_stack, key, ref="p", max_subscriptions=2, waiting_list=True)

    # Draft: name and registration end may change
    changed = ok(
        call(
            component_stack,
            key,
            "PATCH",
            "/v1/events/p",
            json={"name": "Renamed", "registration_end": "2031-01-01T00:00:00Z"},
        )
    )
    assert changed["name"] == "Renamed"

    # Published: name, registration end, timezone refused; description allowed
    ok(call(component_stack, key, "POST", "/v1/events/p/publish"))
    for field, value in (
        ("name", "Again"),
        ("registration_end", "2031-02-01T00:00:00Z"),
        ("timezone", "UTC"),
        ("recurrence", DAILY),
    ):
        body = refused(
            call(component_stack, key, "PATCH", "/v1/events/p", json={field: value}),
            409,
            "EVENT_NOT_DRAFT",
        )
        assert body["details"]["field"] == field
    assert (
        ok(call(component_stack, key, "PATCH", "/v1/events/p", json={"description": "New"}))[
            "description"
        ]
        == "New"
    )

    # Capacity: down to the enrolled count, never below it
    for ref in ("ada", "bob", "cy"):
        enroll(component_stack, key, "p", ref)
    component_stack.drain()
    refused(
        call(component_stack, key, "PATCH", "/v1/events/p", json={"max_subscriptions": 1}),
        409,
        "CAPACITY_BELOW_ENROLLED",
    )
    refused(
        call(component_stack, key, "PATCH", "/v1/events/p", json={"min_subscriptions": 3}),
        422,
        "MIN_ABOVE_MAX",
    )
    refused(
        call(component_stack, key, "PATCH", "/v1/events/p", json={"waiting_list": False}),
        409,
        "WAITING_LIST_NOT_EMPTY",
    )
    raised = ok(call(component_stack, key, "PATCH", "/v1/events/p", json={"max_subscriptions": 5}))
    assert (raised["max_subscriptions"], raised["enrolled_count"]) == (5, 2)
    create_event(component_stack, key, ref="other")
    refused(
        call(component_stack, key, "PATCH", "/v1/events/p", json={"ref": "other"}),
        409,
        "EVENT_REF_TAKEN",
    )
    for body in ({"name": "n" * 76}, {"type": None}, {"timezone": None}, {"unknown": 1}):
        refused(
            call(component_stack, key, "PATCH", "/v1/events/p", json=body), 422, "VALIDATION_ERROR"
        )


def test_patch_rule_of_a_draft_rebuilds_its_occurrences(component_stack: Stack) -> None:
    key = component_stack.key()
    create_event(component_stack, key, ref="d", recurrence=DAILY)
    weekly = DAILY | {"type": "weekly", "ends": {"type": "after", "count": 2}}
    event = ok(call(component_stack, key, "PATCH", "/v1/events/d", json={"recurrence": weekly}))
    items = ok(call(component_stack, key, "GET", "/v1/events/d/occurrences"))["items"]
    assert [o["starts_at"]["local"][:10] for o in items] == ["2030-01-07", "2030-01-14"]
    assert event["ends_at"]["local"] == "2030-01-14T10:30:00+01:00"
    moved = ok(
        call(component_stack, key, "PATCH", "/v1/events/d", json={"timezone": "America/New_York"})
    )
    assert moved["starts_at"]["utc"] == "2030-01-07T14:00:00Z"


def test_publish_and_unpublish(component_stack: Stack) -> None:
    key = component_stack.key()
    create_event(component_stack, key, ref="u")
    ok(call(component_stack, key, "POST", "/v1/events/u/sessions", json={"name": "Morning"}), 201)
    refused(
        call(component_stack, key, "POST", "/v1/events/u/unpublish"),
        409,
        "EVENT_ALREADY_UNPUBLISHED",
    )
    ok(call(component_stack, key, "POST", "/v1/events/u/publish"))
    refused(
        call(component_stack, key, "POST", "/v1/events/u/publish"), 409, "EVENT_ALREADY_PUBLISHED"
    )

    # When unpublished with no seat taken, its sessions are off sale
    assert ok(call(component_stack, key, "POST", "/v1/events/u/unpublish"))["status"] == "draft"
    with component_stack.db() as session:
        assert session.scalars(select(EventSession.status)).all() == ["inactive"]

    # Once a seat is taken, unpublish is refused
    ok(call(component_stack, key, "POST", "/v1/events/u/publish"))
    enroll(component_stack, key, "u", "ada")
    component_stack.drain()
    refused(
        call(component_stack, key, "POST", "/v1/events/u/unpublish"), 409, "EVENT_HAS_ENROLLMENTS"
    )


def test_delete_only_a_draft_without_enrollments(component_stack: Stack) -> None:
    key = component_stack.key()
    published_event(component_stack, key, ref="pub")
    refused(call(component_stack, key, "DELETE", "/v1/events/pub"), 409, "EVENT_IS_PUBLISHED")
    enroll(component_stack, key, "pub", "ada")
    component_stack.drain()

    draft = create_event(component_stack, key, ref="gone", recurrence=DAILY)
    assert ok(call(component_stack, key, "DELETE", "/v1/events/gone")) == {"event_id": draft["id"]}
    refused(call(component_stack, key, "GET", "/v1/events/gone"), 404, "EVENT_NOT_FOUND")
    refused(call(component_stack, key, "DELETE", "/v1/events/gone"), 404, "EVENT_NOT_FOUND")


def test_copy_keeps_settings_sessions_rule_and_trainers_not_enrollments(
    component_stack: Stack,
) -> None:
    # Given a published event with a rule, a session on one date, a trainer and an enrollment
    key = component_stack.key()
    make_attendee(component_stack, "tess")
    published_event(
        component_stack,
        key,
        ref="orig",
        recurrence=DAILY,
        max_subscriptions=9,
        trainers={"refs": ["tess"]},
    )
    second = ok(call(component_stack, key, "GET", "/v1/events/orig/occurrences"))["items"][1]
    ok(
        call(
            component_stack,
            key,
            "POST",
            "/v1/events/orig/sessions",
            json={"name": "Lab", "occurrences": {"type": "specific", "ids": [second["id"]]}},
        ),
        201,
    )
    enroll(component_stack, key, "orig", "ada")
    component_stack.drain()

    # When it is copied under a new ref
    copy = ok(call(component_stack, key, "POST", "/v1/events/orig/copy", json={"ref": "copy"}), 201)

    # Then the copy is a draft with the same settings and dates, and no enrollments
    assert (copy["status"], copy["ref"], copy["max_subscriptions"]) == ("draft", "copy", 9)
    assert (copy["enrolled_count"], copy["recurrence"]["type"]) == (0, "daily")
    items = ok(call(component_stack, key, "GET", "/v1/events/copy/occurrences"))["items"]
    assert len(items) == 5
    (lab,) = ok(call(component_stack, key, "GET", "/v1/events/copy/sessions"))
    assert lab["occurrences"] == {"type": "specific", "ids": [items[1]["id"]]}
    assert [
        t["ref"] for t in ok(call(component_stack, key, "GET", "/v1/events/copy/trainers"))
    ] == ["tess"]
    refused(
        call(component_stack, key, "POST", "/v1/events/orig/copy", json={"ref": "copy"}),
        409,
        "EVENT_REF_TAKEN",
    )
    assert ok(call(component_stack, key, "POST", "/v1/events/orig/copy"), 201)["ref"] is None


def test_dropping_the_rule_keeps_the_dates_and_stops_expansion(component_stack: Stack) -> None:
    key = component_stack.key()
    create_event(component_stack, key, ref="norule", recurrence=DAILY)
    event = ok(call(component_stack, key, "PATCH", "/v1/events/norule", json={"recurrence": None}))
    assert (event["recurrence"], event["expanded_until"]) == (None, None)
    assert len(ok(call(component_stack, key, "GET", "/v1/events/norule/occurrences"))["items"]) == 5
    dates = [{"starts_at": "2030-02-01T09:00:00Z", "ends_at": "2030-02-01T10:00:00Z"}]
    event = ok(call(component_stack, key, "PATCH", "/v1/events/norule", json={"dates": dates}))
    assert event["starts_at"]["utc"] == event["ends_at"]["utc"][:11] + "09:00:00Z"
    items = ok(call(component_stack, key, "GET", "/v1/events/norule/occurrences"))["items"]
    assert [o["starts_at"]["utc"] for o in items] == ["2030-02-01T09:00:00Z"]


def test_scheduler_runs_the_event_producers() -> None:
    from rollcall.scheduler.event_producers import complete_events, expand_occurrences
    from rollcall.scheduler.main import PRODUCERS

    assert {producer for producer, _seconds in PRODUCERS} >= {expand_occurrences, complete_events}
