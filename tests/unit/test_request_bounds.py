"""Every request field and parameter is bounded (intake.fields over domain.bounds).

The rules, table by table; then the schema as a whole: every string, integer
and moment of every request model refuses its hostile values where it stands,
and the OpenAPI document states each bound.
"""

from __future__ import annotations

import types
import typing
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from fastapi.params import Form
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError

from rollcall.domain.bounds import (
    INT32_MAX,
    INT32_MIN,
    echo,
    moment_problem,
    near_window,
    text_problem,
)
from rollcall.intake.app import create_app
from rollcall.intake.json_body import BoundedJsonRoute
from tests.support.hostile import Leaf, leaves, minimal_value, place, render
from tests.support.hostile_stack import settings_for_schema

APP = create_app(settings_for_schema())
SPEC = APP.openapi()


@pytest.mark.parametrize(
    ("value", "multiline", "refused"),
    [
        ("Ada Lovelace", False, False),
        ("Łukasz 李 🎉", False, False),
        ("a\x00b", False, True),
        ("a\x00b", True, True),
        ("a\r\nb", False, True),
        ("a\r\nb\tc", True, False),
        ("a\u2028b", False, True),
        ("\x1b[31m", True, True),
        ("\x7f", True, True),
        ("\x85", False, True),
        ("\ud800", True, True),
        ("", False, False),
    ],
)
def test_text_rule(value: str, multiline: bool, refused: bool) -> None:
    assert (text_problem(value, multiline=multiline) is not None) is refused


@pytest.mark.parametrize(
    ("value", "refused"),
    [
        (datetime(1970, 1, 1, tzinfo=UTC), False),
        (datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), True),
        (datetime(1970, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1))), True),
        (datetime(1969, 12, 31, 23, 30, tzinfo=timezone(timedelta(hours=-1))), False),
        (datetime(2200, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), False),
        (datetime(2201, 1, 1, tzinfo=UTC), True),
        (datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1))), True),
        (datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-1))), True),
        (datetime(1970, 1, 1), False),
        (datetime(2200, 12, 31, 23, 59), False),
        (datetime(1969, 12, 31, 23, 59), True),
        (date(2200, 12, 31), False),
        (date(2201, 1, 1), True),
        (date(1, 1, 1), True),
    ],
)
def test_moment_rule_never_overflows(value: datetime | date, refused: bool) -> None:
    assert (moment_problem(value) is not None) is refused


def test_cursors_accept_what_a_local_time_in_the_window_can_be_in_utc() -> None:
    tokyo = timezone(timedelta(hours=9))
    assert near_window(datetime(1970, 1, 1, tzinfo=tokyo))  # 1969-12-31T15:00Z
    assert not near_window(datetime(1, 1, 1, tzinfo=tokyo))
    assert not near_window(datetime(9999, 12, 31, tzinfo=UTC))


def test_echo_is_bounded_and_storable() -> None:
    assert echo("a\x00b") == "a\\x00b"
    assert echo("\ud800") == "\\ud800"
    assert len(echo("x" * 10_000)) == 100
    assert text_problem(echo(10**5000)) is None


# The schema as a whole -----------------------------------------------------------


def _model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _model(arg)
            if found is not None:
                return found
    return None


def _api_routes(routes: list[Any]) -> list[APIRoute]:
    """The app's API routes, through FastAPI's included routers."""
    found: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif hasattr(route, "original_router"):
            found += _api_routes(route.original_router.routes)
    return found


ROUTES = _api_routes(APP.routes)


def _json_body(route: APIRoute) -> bool:
    # The dashboard's forms are not API bodies: their fields are compared in
    # memory or hashed, never stored; its filters (query parameters) are bounded.
    return route.body_field is not None and not isinstance(route.body_field.field_info, Form)


def _request_models() -> dict[str, type[BaseModel]]:
    # The bulk body is read by hand; its rows are AttendeeIn, met through EnrollmentRequest.
    found: dict[str, type[BaseModel]] = {}
    for route in ROUTES:
        if _json_body(route):
            assert route.body_field is not None
            model = _model(route.body_field.field_info.annotation)
            if model is not None:
                found[model.__name__] = model
    return found


MODELS = _request_models()
HOSTILE = {
    "string": (b'"a\\u0000b"', "text_invalid"),
    "integer": (str(2**31).encode(), "less_than_equal"),
    "date-time": (b'"0001-01-01T00:00:00+01:00"', "moment_out_of_range"),
    "local date-time": (b'"0001-01-01T00:00:00"', "moment_out_of_range"),
    "date": (b'"9999-12-31"', "moment_out_of_range"),
}


def _kind(schema: dict[str, Any]) -> str | None:
    if "enum" in schema or "const" in schema:
        return None
    if schema.get("type") == "integer":
        return "integer"
    if schema.get("type") == "string":
        fmt = schema.get("format")
        if fmt == "date-time" and not str(schema.get("formatMinimum", "Z")).endswith("Z"):
            return "local date-time"
        if fmt in ("date-time", "date"):
            return str(fmt)
        return "string" if fmt is None else None
    return None


def _bounded_leaves(model: type[BaseModel]) -> list[Leaf]:
    schema = model.model_json_schema()
    return [leaf for leaf in leaves(schema, schema.get("$defs", {})) if _kind(leaf.schema)]


def test_the_models_with_strings_integers_and_moments_are_all_checked() -> None:
    checked = {name for name, model in MODELS.items() if _bounded_leaves(model)}
    assert checked >= {
        "EventCreate",
        "EventPatch",
        "EnrollmentRequest",
        "SessionIn",
        "OfferIn",
        "OfferPatch",
    }, checked


@pytest.mark.parametrize("name", sorted(n for n, m in MODELS.items() if _bounded_leaves(m)))
def test_every_field_of_a_request_model_refuses_its_hostile_value(name: str) -> None:
    # Given the model's JSON schema and its plainest valid body
    model = MODELS[name]
    schema = model.model_json_schema()
    defs = schema.get("$defs", {})
    base = minimal_value(schema, defs)
    wrong: list[str] = []
    for leaf in _bounded_leaves(model):
        # When one field holds its kind's hostile value
        raw, error_type = HOSTILE[str(_kind(leaf.schema))]
        placed = place(base, leaf.path, schema, defs, lambda sub, n: minimal_value(sub, defs, n))
        body = (
            render(placed, raw)
            .replace(b'"@occurrence_id@"', b"null")
            .replace(b'"@session_id@"', b"null")
        )
        # Then validation refuses that very field, with the bound's error type
        try:
            model.model_validate_json(body)
        except ValidationError as exc:
            here = [e["type"] for e in exc.errors() if tuple(e["loc"]) == leaf.path]
            if error_type not in here:
                wrong.append(f"{leaf.path}: {[(e['loc'], e['type']) for e in exc.errors()]}")
        else:
            wrong.append(f"{leaf.path}: accepted {body!r}")
    assert not wrong, "\n".join(wrong)


def _walk(schema: Any, components: dict[str, Any], seen: set[str]) -> list[dict[str, Any]]:
    """Every sub-schema, following $refs once."""
    if isinstance(schema, list):
        return [s for item in schema for s in _walk(item, components, seen)]
    if not isinstance(schema, dict):
        return []
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return []
        seen.add(name)
        target = components.get(name) or schema.get("$defs", {}).get(name, {})
        return _walk(target, components, seen)
    found = [schema]
    if {b.get("type") for b in schema.get("anyOf", ())} >= {"number", "string"}:
        # A decimal: its numeric string is bounded by max_digits, not maxLength.
        schema = schema | {"anyOf": [b for b in schema["anyOf"] if b.get("type") != "string"]}
    for key, value in schema.items():
        if key in ("properties", "$defs"):
            found += [s for sub in value.values() for s in _walk(sub, components, seen)]
        elif key in ("items", "anyOf", "allOf", "oneOf", "additionalProperties"):
            found += _walk(value, components, seen)
    return found


def _request_schemas() -> list[tuple[str, dict[str, Any]]]:
    components = SPEC["components"]["schemas"]
    found: list[tuple[str, dict[str, Any]]] = []
    for path, operations in SPEC["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", ()):
                for sub in _walk(parameter["schema"], components, set()):
                    found.append((f"{where} {parameter['in']} {parameter['name']}", sub))
            for media, content in operation.get("requestBody", {}).get("content", {}).items():
                if media == "application/json":
                    defs = dict(components) | content["schema"].get("$defs", {})
                    for sub in _walk(content["schema"], defs, set()):
                        found.append((f"{where} body", sub))
    return found


def test_the_openapi_schema_states_every_bound() -> None:
    unbounded = []
    for where, schema in _request_schemas():
        kind = _kind(schema)
        if kind == "string" and "maxLength" not in schema:
            unbounded.append(f"{where}: a string without maxLength")
        if kind == "integer" and not (
            schema.get("minimum", INT32_MIN - 1) >= INT32_MIN
            and schema.get("maximum", INT32_MAX + 1) <= INT32_MAX
        ):
            unbounded.append(f"{where}: an integer beyond PostgreSQL integer ({schema})")
        if kind in ("date-time", "date") and "formatMinimum" not in schema:
            unbounded.append(f"{where}: a moment without its window")
    assert not unbounded, "\n".join(sorted(set(unbounded)))


def test_every_route_with_a_json_body_reads_it_within_bounds() -> None:
    assert len(ROUTES) > 30
    loose = [
        f"{sorted(route.methods)} {route.path}"
        for route in ROUTES
        if (_json_body(route) or "requestBody" in (route.openapi_extra or {}))
        and not isinstance(route, BoundedJsonRoute)
    ]
    assert not loose, loose
