"""The catalogue over HTTP, one body for both tiers: tests/component/
test_catalogue_http.py (SQLite: LIKE) and tests/integration/
test_catalogue_end_to_end.py (PostgreSQL: full-text search on its GIN index)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from rollcall.domain.clock import utcnow
from tests.support.factories import create_event, published_event
from tests.support.stack import Stack

DAY = timedelta(days=1)


def _dated(days: int) -> dict[str, str]:
    start = (utcnow() + days * DAY).replace(microsecond=0)
    return {"starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=2)).isoformat()}


def catalogue(stack: Stack, key: str, **params: Any) -> dict[str, Any]:
    response = stack.client.get("/v1/catalogue", params=params, headers=stack.auth(key))
    assert response.status_code == 200, response.text
    return dict(response.json())


def refs(stack: Stack, key: str, **params: Any) -> list[str]:
    return [event["ref"] for event in catalogue(stack, key, **params)["items"]]


def seed_catalogue(stack: Stack) -> str:
    """Two listed events, and four that the catalogue leaves out; returns the key."""
    key = stack.key()
    published_event(
        stack,
        key,
        ref="python",
        type="TRAINING",
        name="Intro to Python",
        description="Learn the basics of programming, hands on.",
        listing={"enabled": True, "categories": ["Business"], "tags": ["python", "Beginner"]},
        **_dated(7),
    )
    published_event(
        stack,
        key,
        ref="colour",
        type="WEBINAR",
        name="Colour theory",
        description="Why some palettes work: a webinar for designers.",
        listing={"enabled": True, "categories": ["Design", "business"], "tags": []},
        **_dated(40),
    )
    listing = {"enabled": True, "categories": ["Business"]}
    create_event(stack, key, ref="draft", name="Python draft", listing=listing, **_dated(7))
    published_event(stack, key, ref="cancelled", name="Python gone", listing=listing, **_dated(7))
    cancelled = stack.client.post("/v1/events/cancelled/cancel", headers=stack.auth(key))
    assert cancelled.status_code == 202, cancelled.text
    published_event(stack, key, ref="unlisted", name="Python hidden", **_dated(7))
    other = stack.key("other-org")
    published_event(stack, other, ref="theirs", name="Python theirs", listing=listing)
    return key


def filters_and_pages(stack: Stack) -> None:
    key = seed_catalogue(stack)
    # Only the listed, published, not cancelled events of the organisation
    assert refs(stack, key) == ["python", "colour"]
    shown = catalogue(stack, key)["items"][0]
    assert shown["listing"] == {
        "enabled": True,
        "categories": ["Business"],
        "tags": ["python", "Beginner"],
    }
    # Labels match whatever their case; several of one kind match any of them
    assert refs(stack, key, category="BUSINESS") == ["python", "colour"]
    assert refs(stack, key, category="design") == ["colour"]
    assert refs(stack, key, category=["Design", "Nope"]) == ["colour"]
    assert refs(stack, key, tag="beginner") == ["python"]
    assert refs(stack, key, tag="python", type="WEBINAR") == []
    assert refs(stack, key, type=["WEBINAR", "COURSE"]) == ["colour"]
    # The dates of the occurrences
    soon = {"from": (utcnow() + 6 * DAY).isoformat(), "to": (utcnow() + 8 * DAY).isoformat()}
    assert refs(stack, key, **soon) == ["python"]
    assert refs(stack, key, **{"from": (utcnow() + 30 * DAY).isoformat()}) == ["colour"]
    assert refs(stack, key, to=(utcnow() + DAY).isoformat()) == []
    # Text in the name or the description
    assert refs(stack, key, q="python") == ["python"]
    assert refs(stack, key, q="Palettes") == ["colour"]
    assert refs(stack, key, q="webinar designers") == ["colour"]
    assert refs(stack, key, q="python designers") == []
    assert refs(stack, key, q="100%_") == []
    # Cursor pages, the one codec of the API
    first = catalogue(stack, key, limit=1)
    assert [e["ref"] for e in first["items"]] == ["python"] and first["next_cursor"]
    second = catalogue(stack, key, limit=1, cursor=first["next_cursor"])
    assert [e["ref"] for e in second["items"]] == ["colour"] and second["next_cursor"] is None


def labels_follow_patch_and_copy(stack: Stack) -> None:
    key = stack.key()
    published_event(stack, key, ref="ev", listing={"enabled": True, "categories": ["Old"]})
    # When a PATCH changes only the tags, the categories stay
    patched = stack.client.patch(
        "/v1/events/ev", json={"listing": {"tags": ["New"]}}, headers=stack.auth(key)
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["listing"] == {"enabled": True, "categories": ["Old"], "tags": ["New"]}
    assert refs(stack, key, tag="new") == ["ev"]
    assert refs(stack, key, category="old") == ["ev"]
    # and replacing the categories drops the old ones from the filter
    stack.client.patch(
        "/v1/events/ev", json={"listing": {"categories": ["Fresh"]}}, headers=stack.auth(key)
    )
    assert refs(stack, key, category="old") == []
    assert refs(stack, key, category="fresh") == ["ev"]
    # A copy is a draft with the same listing: once published, it is listed too
    copy = stack.client.post("/v1/events/ev/copy", json={"ref": "copy"}, headers=stack.auth(key))
    assert copy.status_code == 201 and copy.json()["listing"]["categories"] == ["Fresh"]
    assert refs(stack, key, category="fresh") == ["ev"]
    stack.client.post("/v1/events/copy/publish", headers=stack.auth(key))
    assert refs(stack, key, category="fresh") == ["ev", "copy"]
    # Unlisting takes it out
    stack.client.patch(
        "/v1/events/ev", json={"listing": {"enabled": False}}, headers=stack.auth(key)
    )
    assert refs(stack, key) == ["copy"]
