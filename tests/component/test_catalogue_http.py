"""The catalogue and listing over HTTP on SQLite (text by LIKE): filters,
pages, labels through PATCH and copy, and the bad input refused at the edge."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import catalogue_scenarios
from tests.support.factories import create_event
from tests.support.stack import Stack


def test_filters_and_pages(component_stack: Stack) -> None:
    catalogue_scenarios.filters_and_pages(component_stack)


def test_labels_follow_patch_and_copy(component_stack: Stack) -> None:
    catalogue_scenarios.labels_follow_patch_and_copy(component_stack)


def test_listing_defaults_to_unlisted(component_stack: Stack) -> None:
    key = component_stack.key()
    event = create_event(component_stack, key)
    assert event["listing"] == {"enabled": False, "categories": [], "tags": []}


def _error(response: Any) -> tuple[int, str, list[str]]:
    error = response.json()["error"]
    types = [e["type"] for e in (error.get("details") or {}).get("errors", [])]
    return response.status_code, error["code"], types


@pytest.mark.parametrize(
    ("listing", "error_type"),
    [
        ({"categories": ["x" * 51]}, "string_too_long"),
        ({"tags": ["x" * 51]}, "string_too_long"),
        ({"categories": [f"c{i}" for i in range(21)]}, "too_long"),
        ({"tags": [f"t{i}" for i in range(21)]}, "too_long"),
        ({"categories": [""]}, "string_too_short"),
        ({"tags": ["   "]}, "label_blank"),
        ({"categories": ["Business", "business "]}, "label_duplicate"),
        ({"categories": ["a\x00b"]}, "text_invalid"),
        ({"tags": ["two\nlines"]}, "text_invalid"),
        ({"categories": [7]}, "string_type"),
        ({"categories": "Business"}, "list_type"),
        ({"enabled": "sometimes"}, "bool_parsing"),
        ({"visibility_in_org_profile": True}, "extra_forbidden"),
    ],
)
def test_bad_listings_are_refused(
    component_stack: Stack, listing: dict[str, Any], error_type: str
) -> None:
    stack = component_stack
    key = stack.key()
    created = stack.client.post(
        "/v1/events",
        json={"name": "L", "type": "TRAINING", "listing": listing},
        headers=stack.auth(key),
    )
    assert _error(created)[:2] == (422, "VALIDATION_ERROR")
    assert error_type in _error(created)[2]
    create_event(stack, key, ref="ev")
    patched = stack.client.patch(
        "/v1/events/ev", json={"listing": listing}, headers=stack.auth(key)
    )
    assert error_type in _error(patched)[2]


def test_listing_cannot_be_null_on_patch(component_stack: Stack) -> None:
    key = component_stack.key()
    create_event(component_stack, key, ref="ev")
    response = component_stack.client.patch(
        "/v1/events/ev", json={"listing": None}, headers=component_stack.auth(key)
    )
    assert _error(response)[:2] == (422, "VALIDATION_ERROR")


@pytest.mark.parametrize(
    ("params", "code", "error_type"),
    [
        ({"category": "x" * 51}, "VALIDATION_ERROR", "string_too_long"),
        ({"category": [f"c{i}" for i in range(21)]}, "VALIDATION_ERROR", "too_long"),
        ({"category": ""}, "VALIDATION_ERROR", "string_too_short"),
        ({"tag": " "}, "VALIDATION_ERROR", "label_blank"),
        ({"tag": "a\x00b"}, "VALIDATION_ERROR", "text_invalid"),
        ({"q": ""}, "VALIDATION_ERROR", "string_too_short"),
        ({"q": "   "}, "VALIDATION_ERROR", "query_blank"),
        ({"q": "a\x00b"}, "VALIDATION_ERROR", "text_invalid"),
        ({"q": "x" * 201}, "VALIDATION_ERROR", "string_too_long"),
        ({"type": "PARTY"}, "VALIDATION_ERROR", "literal_error"),
        (
            {"from": "2031-01-02T00:00:00Z", "to": "2031-01-01T00:00:00Z"},
            "INVALID_DATE_RANGE",
            None,
        ),
        (
            {"from": "2031-01-01T00:00:00Z", "to": "2031-01-01T00:00:00Z"},
            "INVALID_DATE_RANGE",
            None,
        ),
        ({"from": "2031-01-01"}, "VALIDATION_ERROR", None),
        ({"from": "9999-01-01T00:00:00Z"}, "VALIDATION_ERROR", "moment_out_of_range"),
        ({"cursor": "not-ours"}, "INVALID_CURSOR", None),
        ({"limit": 0}, "VALIDATION_ERROR", "greater_than_equal"),
        ({"limit": 201}, "VALIDATION_ERROR", "less_than_equal"),
    ],
)
def test_bad_catalogue_queries_are_refused(
    component_stack: Stack, params: dict[str, Any], code: str, error_type: str | None
) -> None:
    key = component_stack.key()
    response = component_stack.client.get(
        "/v1/catalogue", params=params, headers=component_stack.auth(key)
    )
    status, got, types = _error(response)
    assert (status, got) == (422, code), response.text
    if error_type is not None:
        assert error_type in types


def test_the_catalogue_needs_events_read(component_stack: Stack) -> None:
    key = component_stack.key(scopes=["students:write"])
    response = component_stack.client.get("/v1/catalogue", headers=component_stack.auth(key))
    assert _error(response)[:2] == (403, "INSUFFICIENT_SCOPE")
    anonymous = component_stack.client.get("/v1/catalogue")
    assert anonymous.status_code == 401
