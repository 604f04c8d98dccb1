"""Issue 14, finding 6, the classes behind single findings, read off the OpenAPI
schema so a new route is covered the day it is added:

- every JSON request body refuses fields it does not know (``POST /copy`` took
  any), nested objects too;
- every query parameter with a closed vocabulary (an enum) or a boolean refuses
  any other value with 422 (``bookmarked=maybe`` used to be ignored).
"""

from __future__ import annotations

from typing import Any

import pytest

from rollcall.intake.app import create_app
from tests.support.calendar import issue_token
from tests.support.factories import enroll, published_event
from tests.support.hostile_stack import settings_for_schema
from tests.support.stack import Stack

SCHEMA = create_app(settings_for_schema()).openapi()
#: Objects whose keys are data, not fields: a bulk row is checked row by row
#: (an unknown key is a row error of the job, tests/component/test_bulk_enroll.py).
FREE_FORM = ("/enrollments/bulk.attendees",)


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    name = ref.rsplit("/", 1)[-1]
    resolved: dict[str, Any] = SCHEMA["components"]["schemas"][name]
    return resolved


def _open_objects(schema: dict[str, Any], where: str, seen: set[str]) -> list[str]:
    """The object schemas under ``schema`` that accept unknown properties."""
    ref = schema.get("$ref")
    if ref is not None:
        if ref in seen:
            return []
        seen.add(ref)
        return _open_objects(_resolve(schema), ref.rsplit("/", 1)[-1], seen)
    found: list[str] = []
    closed = "properties" in schema and schema.get("additionalProperties") is False
    if schema.get("type") == "object" and not where.endswith(FREE_FORM) and not closed:
        found.append(where)
    for name, sub in schema.get("properties", {}).items():
        found += _open_objects(sub, f"{where}.{name}", seen)
    for combinator in ("anyOf", "oneOf", "allOf"):
        for sub in schema.get(combinator, []):
            found += _open_objects(sub, where, seen)
    if isinstance(schema.get("items"), dict):
        found += _open_objects(schema["items"], where, seen)
    return found


JSON_BODIES = sorted(
    (method.upper(), path)
    for path, operations in SCHEMA["paths"].items()
    for method, operation in operations.items()
    if "application/json" in operation.get("requestBody", {}).get("content", {})
)


def test_the_schema_has_json_bodies() -> None:
    # An empty list would make the test below prove nothing
    assert ("POST", "/v1/events/{event_id}/copy") in JSON_BODIES
    assert len(JSON_BODIES) >= 10


@pytest.mark.parametrize(("method", "path"), JSON_BODIES)
def test_every_json_body_forbids_unknown_fields(method: str, path: str) -> None:
    body = SCHEMA["paths"][path][method.lower()]["requestBody"]["content"]["application/json"]
    assert _open_objects(body["schema"], f"{method} {path}", set()) == []


def _closed(schema: dict[str, Any]) -> str | None:
    """``boolean`` or ``enum`` when the parameter takes a closed set of values."""
    options = [schema, *schema.get("anyOf", [])]
    options += [o["items"] for o in options if isinstance(o.get("items"), dict)]
    if any(o.get("type") == "boolean" for o in options):
        return "boolean"
    if any("enum" in o for o in options):
        return "enum"
    return None


CLOSED_PARAMETERS = sorted(
    (method.upper(), path, parameter["name"])
    for path, operations in SCHEMA["paths"].items()
    for method, operation in operations.items()
    for parameter in operation.get("parameters", [])
    if parameter["in"] == "query" and _closed(parameter["schema"])
)


def test_the_schema_has_closed_parameters() -> None:
    assert ("GET", "/v1/calendar", "bookmarked") in CLOSED_PARAMETERS
    assert ("GET", "/v1/events", "cancelled") in CLOSED_PARAMETERS


@pytest.mark.parametrize(("method", "path", "name"), CLOSED_PARAMETERS)
def test_closed_parameters_refuse_other_values(
    component_stack: Stack, method: str, path: str, name: str
) -> None:
    # Given an event to name and a credential the route takes
    key = component_stack.key()
    event = published_event(component_stack, key, ref="ev")
    auth = key
    if path.startswith("/v1/calendar"):
        enroll(component_stack, key, event["id"], "ada")
        component_stack.drain()
        auth = issue_token(component_stack, key, "ada")
    url = path.replace("{event_id}", "ev")
    params = {"fromDate": "2030-01-01"} if path.startswith("/v1/calendar") else {}

    # When the parameter names a value outside its vocabulary, the request is refused
    response = component_stack.client.request(
        method, url, params=params | {name: "maybe"}, headers=component_stack.auth(auth)
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    assert name in response.text
