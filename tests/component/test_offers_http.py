"""Offers over HTTP on SQLite (seed 000: an offer groups events): create, show,
list, PATCH, delete; events joined to an offer by id or ref, listed under it;
the refusals with their codes, scopes and other organisations."""

from __future__ import annotations

import uuid

from tests.support.event_helpers import call, ok, refused
from tests.support.factories import create_event
from tests.support.stack import Stack


def test_an_offer_is_created_shown_changed_and_listed(component_stack: Stack) -> None:
    # Given an organiser
    key = component_stack.key()

    # When they create offers
    body = {"title": "Onboarding 2031", "ref": "onb", "description": "Line one\nLine two"}
    offer = ok(call(component_stack, key, "POST", "/v1/offers", json=body), 201)
    for n in range(4):
        ok(call(component_stack, key, "POST", "/v1/offers", json={"title": f"O{n}"}), 201)

    # Then each is shown by id or by ref
    assert {k: offer[k] for k in body} == body
    assert ok(call(component_stack, key, "GET", f"/v1/offers/{offer['id']}")) == offer
    assert ok(call(component_stack, key, "GET", "/v1/offers/onb")) == offer

    # And listed oldest first, page by page
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = ok(call(component_stack, key, "GET", "/v1/offers", params=params))
        seen += [item["title"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["Onboarding 2031", "O0", "O1", "O2", "O3"]

    # When a PATCH changes the title and clears the ref
    patched = ok(
        call(component_stack, key, "PATCH", "/v1/offers/onb", json={"title": "New", "ref": None})
    )

    # Then only those change
    assert (patched["title"], patched["ref"], patched["description"]) == (
        "New",
        None,
        body["description"],
    )
    refused(call(component_stack, key, "GET", "/v1/offers/onb"), 404, "OFFER_NOT_FOUND")


def test_offer_refusals(component_stack: Stack) -> None:
    key = component_stack.key()
    ok(call(component_stack, key, "POST", "/v1/offers", json={"title": "A", "ref": "a"}), 201)
    ok(call(component_stack, key, "POST", "/v1/offers", json={"title": "B", "ref": "b"}), 201)
    for body in ({"title": "C", "ref": "a"},):
        refused(call(component_stack, key, "POST", "/v1/offers", json=body), 409, "OFFER_REF_TAKEN")
    refused(
        call(component_stack, key, "PATCH", "/v1/offers/b", json={"ref": "a"}),
        409,
        "OFFER_REF_TAKEN",
    )
    for body in (
        {},
        {"title": ""},
        {"title": "t" * 201},
        {"title": "a\x00b"},
        {"title": "x", "description": "d" * 2501},
        {"title": "x", "ref": "r\r\nx"},
        {"title": "x", "extra": 1},
    ):
        refused(
            call(component_stack, key, "POST", "/v1/offers", json=body), 422, "VALIDATION_ERROR"
        )
    for body in ({"title": None}, {"description": None}, {"title": "a\x00"}):
        refused(
            call(component_stack, key, "PATCH", "/v1/offers/a", json=body), 422, "VALIDATION_ERROR"
        )
    missing = str(uuid.uuid4())
    for method in ("GET", "PATCH", "DELETE"):
        refused(
            call(component_stack, key, method, f"/v1/offers/{missing}", json={}),
            404,
            "OFFER_NOT_FOUND",
        )
    refused(call(component_stack, key, "GET", "/v1/offers/nope/events"), 404, "OFFER_NOT_FOUND")
    refused(
        call(component_stack, key, "GET", "/v1/offers", params={"cursor": "!!"}),
        422,
        "INVALID_CURSOR",
    )


def test_events_join_an_offer_by_id_or_ref_and_are_listed_under_it(
    component_stack: Stack,
) -> None:
    # Given two offers
    key = component_stack.key()
    first = ok(
        call(component_stack, key, "POST", "/v1/offers", json={"title": "A", "ref": "a"}), 201
    )
    ok(call(component_stack, key, "POST", "/v1/offers", json={"title": "B", "ref": "b"}), 201)

    # When events are created in the first, by id and by ref, and one outside it
    by_id = create_event(component_stack, key, ref="e1", offer_id=first["id"])
    by_ref = create_event(component_stack, key, ref="e2", offer_ref="a")
    outside = create_event(component_stack, key, ref="e3")

    # Then they carry the offer's id, and the offer lists them (oldest first, paged)
    assert (by_id["offer_id"], by_ref["offer_id"], outside["offer_id"]) == (
        first["id"],
        first["id"],
        None,
    )
    page = ok(call(component_stack, key, "GET", "/v1/offers/a/events", params={"limit": 1}))
    assert [item["ref"] for item in page["items"]] == ["e1"]
    rest = ok(
        call(
            component_stack,
            key,
            "GET",
            "/v1/offers/a/events",
            params={"cursor": page["next_cursor"]},
        )
    )
    assert ([item["ref"] for item in rest["items"]], rest["next_cursor"]) == (["e2"], None)

    # When an event moves to the other offer, and another leaves its offer
    moved = ok(call(component_stack, key, "PATCH", "/v1/events/e2", json={"offer_ref": "b"}))
    left = ok(call(component_stack, key, "PATCH", "/v1/events/e1", json={"offer_id": None}))

    # Then each list follows
    assert moved["offer_id"] != first["id"] and left["offer_id"] is None
    listed = ok(call(component_stack, key, "GET", "/v1/offers/b/events"))["items"]
    assert [item["ref"] for item in listed] == ["e2"]
    assert ok(call(component_stack, key, "GET", "/v1/offers/a/events"))["items"] == []
    # And a copy stays in its offer
    copy = ok(call(component_stack, key, "POST", "/v1/events/e2/copy", json={"ref": "e2c"}), 201)
    assert copy["offer_id"] == moved["offer_id"]

    # And naming an offer that is not there, or both ways at once, is refused
    base = {"name": "x", "type": "TRAINING"}
    for body, status, code in (
        (base | {"offer_ref": "zzz"}, 404, "OFFER_NOT_FOUND"),
        (base | {"offer_id": str(uuid.uuid4())}, 404, "OFFER_NOT_FOUND"),
        (base | {"offer_id": first["id"], "offer_ref": "a"}, 422, "VALIDATION_ERROR"),
        (base | {"offer_id": "a"}, 422, "VALIDATION_ERROR"),
    ):
        refused(call(component_stack, key, "POST", "/v1/events", json=body), status, code)
    refused(
        call(component_stack, key, "PATCH", "/v1/events/e3", json={"offer_ref": "zzz"}),
        404,
        "OFFER_NOT_FOUND",
    )


def test_an_offer_holding_events_is_not_deleted(component_stack: Stack) -> None:
    # Given an offer with an event
    key = component_stack.key()
    ok(call(component_stack, key, "POST", "/v1/offers", json={"title": "A", "ref": "a"}), 201)
    create_event(component_stack, key, ref="e1", offer_ref="a")

    # When it is deleted, Then it is refused, and the offer is still there
    error = refused(call(component_stack, key, "DELETE", "/v1/offers/a"), 409, "OFFER_HAS_EVENTS")
    assert error["details"] == {"events": 1}
    ok(call(component_stack, key, "GET", "/v1/offers/a"))

    # When its event is deleted first, Then the offer goes
    ok(call(component_stack, key, "DELETE", "/v1/events/e1"))
    deleted = ok(call(component_stack, key, "DELETE", "/v1/offers/a"))
    refused(
        call(component_stack, key, "GET", f"/v1/offers/{deleted['offer_id']}"),
        404,
        "OFFER_NOT_FOUND",
    )


def test_offers_take_the_events_scopes_and_hide_other_organisations(
    component_stack: Stack,
) -> None:
    # Given an offer of one organisation, and keys with narrower scopes
    ours = component_stack.key("acme")
    offer = ok(
        call(component_stack, ours, "POST", "/v1/offers", json={"title": "A", "ref": "a"}), 201
    )
    reader = component_stack.key("acme", scopes=["events:read"])
    enroller = component_stack.key("acme", scopes=["students:write"])
    theirs = component_stack.key("globex")

    # Then a reader reads and may not write; a key without an events scope does neither
    ok(call(component_stack, reader, "GET", "/v1/offers/a"))
    ok(call(component_stack, reader, "GET", "/v1/offers/a/events"))
    for method, path in (
        ("POST", "/v1/offers"),
        ("PATCH", "/v1/offers/a"),
        ("DELETE", "/v1/offers/a"),
    ):
        refused(
            call(component_stack, reader, method, path, json={"title": "x"}),
            403,
            "INSUFFICIENT_SCOPE",
        )
    refused(call(component_stack, enroller, "GET", "/v1/offers"), 403, "INSUFFICIENT_SCOPE")

    # And another organisation neither sees it nor puts its events in it
    assert ok(call(component_stack, theirs, "GET", "/v1/offers"))["items"] == []
    for name in (offer["id"], "a"):
        refused(call(component_stack, theirs, "GET", f"/v1/offers/{name}"), 404, "OFFER_NOT_FOUND")
    base = {"name": "x", "type": "TRAINING"}
    for body in (base | {"offer_id": offer["id"]}, base | {"offer_ref": "a"}):
        refused(
            call(component_stack, theirs, "POST", "/v1/events", json=body), 404, "OFFER_NOT_FOUND"
        )
    # Its own offer may have the same ref
    ok(call(component_stack, theirs, "POST", "/v1/offers", json={"title": "G", "ref": "a"}), 201)
