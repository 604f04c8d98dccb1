"""Every error body has one shape, ``{"error": {"code", "message", "details"}}``,
``details`` included when there are none: unknown routes (404) and wrong
methods (405) too, walked over every route of the API (review of issue 14)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.routing import APIRoute

from rollcall.intake.app import create_app
from tests.support.stack import Stack

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
UNKNOWN = ("/nope", "/v1", "/v1/nope", "/v1/events/intro/nope", "/v1/jobs/x/y/z", "/metrics/x")


def api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    """Every APIRoute, through included routers (FastAPI keeps them as such)."""
    for route in routes:
        if hasattr(route, "original_router"):
            yield from api_routes(route.original_router.routes)
        elif isinstance(route, APIRoute):
            yield route


def assert_one_shape(body: object, code: str) -> None:
    assert isinstance(body, dict) and set(body) - {"statusCode"} == {"error"}, (
        body
    )  # statusCode: seed 002
    error = body["error"]
    assert set(error) == {"code", "message", "details"}, error
    assert error["code"] == code and isinstance(error["message"], str) and error["message"]
    assert isinstance(error["details"], dict)


@pytest.mark.parametrize("path", UNKNOWN)
def test_an_unknown_route_is_not_found_in_the_one_shape(component_stack: Stack, path: str) -> None:
    key = component_stack.key()
    for method in METHODS:
        response = component_stack.client.request(method, path, headers=component_stack.auth(key))
        assert response.status_code == 404, (method, path, response.text)
        assert_one_shape(response.json(), "NOT_FOUND")


def test_every_route_answers_a_wrong_method_in_the_one_shape(component_stack: Stack) -> None:
    # Given every path of the API with the methods it serves
    served: dict[str, set[str]] = {}
    for route in api_routes(create_app(component_stack.settings).routes):
        served.setdefault(route.path, set()).update(route.methods)
    assert len(served) > 20
    key = component_stack.key()
    tried = 0
    # When each is asked with each method it does not serve
    for path, methods in sorted(served.items()):
        url = re.sub(r"\{[^}]+\}", "x", path)
        for method in sorted(set(METHODS) - methods - ({"GET"} if "HEAD" in methods else set())):
            response = component_stack.client.request(
                method, url, headers=component_stack.auth(key)
            )
            # Then 405 with the one body (ops pages too: the route exists)
            assert response.status_code == 405, (method, path, response.text)
            assert_one_shape(response.json(), "METHOD_NOT_ALLOWED")
            tried += 1
    assert tried > 50


def test_a_domain_error_without_details_still_has_the_key(component_stack: Stack) -> None:
    response = component_stack.client.get("/v1/events")
    assert response.status_code == 401
    assert_one_shape(response.json(), "INVALID_API_KEY")
