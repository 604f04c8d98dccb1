"""Venue, online URL, banners and thumbnail of an event (seed 002
``configuration`` VENUE, ``banner``, ``thumbnail``) over HTTP on SQLite: given
on create, changed by PATCH, shown, copied, in every mail and in the iCal feed;
every bad value refused at the edge with its code."""

from __future__ import annotations

from typing import Any

import pytest
from icalendar import Calendar

from tests.support.event_helpers import call, ok, refused
from tests.support.factories import create_event, enroll
from tests.support.stack import Stack

DATES = {"starts_at": "2031-09-12T09:00:00Z", "ends_at": "2031-09-12T12:00:00Z"}
VENUE: dict[str, Any] = {
    "name": "De Balie",
    "url": "https://maps.example.org/balie",
    "image": None,
    "latitude": 52.3637,
    "longitude": 4.8836,
    "address": {
        "address_line1": "Kleine-Gartmanplantsoen 10",
        "address_line2": "",
        "city": "Amsterdam",
        "state": "Noord-Holland",
        "country": "NL",
        "post_code": "1017 RR",
    },
}
BANNERS = [
    {"name": "wide", "image": "https://cdn.example.org/wide.jpg", "primary": False},
    {"name": "main", "image": "https://cdn.example.org/main.jpg", "primary": True},
]


def _place(event: dict[str, Any]) -> dict[str, Any]:
    return {name: event[name] for name in ("venue", "online_url", "banner", "thumbnail")}


def test_place_and_look_are_stored_shown_patched_and_copied(component_stack: Stack) -> None:
    # Given an event created at a venue with two banners, one primary
    key = component_stack.key()
    body = {"name": "Sept", "type": "TRAINING", "ref": "sept", **DATES}
    created = ok(
        call(
            component_stack,
            key,
            "POST",
            "/v1/events",
            json=body | {"venue": VENUE, "banner": BANNERS},
        ),
        201,
    )

    # Then it shows them, the thumbnail being the primary banner
    expected = {"venue": VENUE, "online_url": None, "banner": BANNERS, "thumbnail": BANNERS[1]}
    assert _place(created) == expected
    assert _place(ok(call(component_stack, key, "GET", "/v1/events/sept"))) == expected
    assert [_place(e) for e in ok(call(component_stack, key, "GET", "/v1/events"))["items"]] == [
        expected
    ]
    # And an event without them has none
    plain = create_event(component_stack, key, ref="plain")
    assert _place(plain) == {"venue": None, "online_url": None, "banner": [], "thumbnail": None}

    # When the organiser moves it online, sets a thumbnail of its own and drops the banners
    patched = ok(
        call(
            component_stack,
            key,
            "PATCH",
            "/v1/events/sept",
            json={
                "venue": None,
                "online_url": "https://meet.example.org/sept",
                "thumbnail": {"name": "t", "image": "https://cdn.example.org/t.png"},
                "banner": [],
            },
        )
    )
    # Then the event says so, and a copy carries it all
    assert _place(patched) == {
        "venue": None,
        "online_url": "https://meet.example.org/sept",
        "banner": [],
        "thumbnail": {"name": "t", "image": "https://cdn.example.org/t.png", "primary": False},
    }
    copy = ok(call(component_stack, key, "POST", "/v1/events/sept/copy", json={"ref": "c"}), 201)
    assert _place(copy) == _place(patched)
    # And coordinates sent as strings (seed 002 types them so) are taken as numbers
    as_text = VENUE | {"latitude": "52.5", "longitude": "-4.25"}
    stored = ok(call(component_stack, key, "PATCH", "/v1/events/c", json={"venue": as_text}))
    assert (stored["venue"]["latitude"], stored["venue"]["longitude"]) == (52.5, -4.25)


BAD: list[tuple[dict[str, Any], list[str], str]] = [
    ({"venue": VENUE | {"latitude": 90.5}}, ["venue", "latitude"], "less_than_equal"),
    ({"venue": VENUE | {"latitude": -91}}, ["venue", "latitude"], "greater_than_equal"),
    ({"venue": VENUE | {"longitude": 180.01}}, ["venue", "longitude"], "less_than_equal"),
    ({"venue": VENUE | {"longitude": "NaN"}}, ["venue", "longitude"], "finite_number"),
    ({"venue": VENUE | {"longitude": None}}, ["venue"], "coordinates_incomplete"),
    ({"venue": VENUE | {"url": "not a url"}}, ["venue", "url"], "url_parsing"),
    ({"venue": VENUE | {"url": "javascript:alert(1)"}}, ["venue", "url"], "url_scheme"),
    ({"venue": VENUE | {"name": ""}}, ["venue", "name"], "string_too_short"),
    ({"venue": VENUE | {"city": "x"}}, ["venue", "city"], "extra_forbidden"),
    ({"online_url": "ftp://files.example.org/x"}, ["online_url"], "url_scheme"),
    ({"online_url": "https://" + "a" * 2000 + ".org"}, ["online_url"], "url_too_long"),
    (
        {"banner": [BANNERS[1], BANNERS[1] | {"name": "second"}]},
        ["banner"],
        "banner_primary_not_unique",
    ),
    (
        {"banner": [{"name": "x", "image": "/uploads/x.jpg"}]},
        ["banner", "0", "image"],
        "url_parsing",
    ),
    ({"banner": [BANNERS[0]] * 21}, ["banner"], "too_long"),
    ({"thumbnail": {"name": "t"}}, ["thumbnail", "image"], "missing"),
]


@pytest.mark.parametrize(("fields", "loc", "error_type"), BAD)
def test_bad_place_values_are_refused_with_their_code(
    component_stack: Stack, fields: dict[str, Any], loc: list[Any], error_type: str
) -> None:
    # Given an organiser and an event
    key = component_stack.key()
    create_event(component_stack, key, ref="e")
    body = {"name": "x", "type": "MEETING", **DATES} | fields

    # When they create or patch an event with the bad value
    for method, path, sent in (("POST", "/v1/events", body), ("PATCH", "/v1/events/e", fields)):
        response = call(component_stack, key, method, path, json=sent)
        error = refused(response, 422, "VALIDATION_ERROR")
        # Then it is refused at that field with the reason's type
        found = [(e["loc"][1:], e["type"]) for e in error["details"]["errors"]]
        assert (loc, error_type) in found, found


def test_patch_refuses_null_banner_and_a_cancelled_events_place(component_stack: Stack) -> None:
    key = component_stack.key()
    create_event(component_stack, key, ref="e", **DATES)
    refused(
        call(component_stack, key, "PATCH", "/v1/events/e", json={"banner": None}),
        422,
        "VALIDATION_ERROR",
    )
    ok(call(component_stack, key, "POST", "/v1/events/e/cancel"), 202)
    refused(
        call(component_stack, key, "PATCH", "/v1/events/e", json={"venue": VENUE}),
        409,
        "EVENT_CANCELLED",
    )


def test_the_venue_is_in_the_mails_and_the_ical_feed(component_stack: Stack) -> None:
    # Given a published event at a venue with an online link too (hybrid)
    key = component_stack.key()
    body = {"venue": VENUE, "online_url": "https://meet.example.org/sept", "ref": "sept", **DATES}
    create_event(component_stack, key, **body)
    ok(call(component_stack, key, "POST", "/v1/events/sept/publish"))

    # When an attendee enrolls
    enroll(component_stack, key, "sept", "ada")
    component_stack.drain()

    # Then the confirmation says where, in text and HTML
    (mail,) = component_stack.sink.wait_for(1)
    text = mail.get_body(preferencelist=("plain",)).get_content()
    html = mail.get_body(preferencelist=("html",)).get_content()
    where = "De Balie, Kleine-Gartmanplantsoen 10, 1017 RR Amsterdam, Noord-Holland, NL"
    assert f"Where: {where}" in text
    assert "Map: https://maps.example.org/balie" in text
    assert "Online: https://meet.example.org/sept" in text
    assert where in html and 'href="https://meet.example.org/sept"' in html

    # And the attendee's iCal feed has LOCATION, GEO and URL, parsed back
    token = ok(call(component_stack, key, "POST", "/v1/attendees/ada/tokens"), 201)["token"]
    feed = component_stack.client.get(
        "/v1/calendar.ics", params={"token": token, "fromDate": "2031-01-01"}
    )
    assert feed.status_code == 200, feed.text
    (vevent,) = Calendar.from_ical(feed.content).walk("VEVENT")
    assert str(vevent["LOCATION"]) == where
    assert (vevent["GEO"].latitude, vevent["GEO"].longitude) == (52.3637, 4.8836)
    assert str(vevent["URL"]) == "https://meet.example.org/sept"
    assert vevent["SEQUENCE"] == 0
