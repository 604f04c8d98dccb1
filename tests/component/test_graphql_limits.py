"""Hostile documents at /graphql: over the depth, alias or token limit, not
parsing, introspection turned off, a mutation over GET, a body that is not
GraphQL-over-HTTP. Each gets an error with its code, never a 5xx. And the
schema is published: GraphiQL where the setting turns it on, the SDL from
``rollcall graphql-schema``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from rollcall.cli import main
from rollcall.intake.app import create_app
from tests.support.graphql import refusal
from tests.support.stack import Stack


@pytest.fixture
def strict(component_stack: Stack) -> Iterator[TestClient]:
    """The app on the stack's database with small limits and no introspection."""
    settings = component_stack.settings.model_copy(
        update={
            "graphql_max_depth": 2,
            "graphql_max_aliases": 3,
            "graphql_max_tokens": 200,
            "graphql_introspection": False,
        }
    )
    with TestClient(create_app(settings)) as client:
        yield client


def _error(client: TestClient, key: str, query: str) -> dict[str, object]:
    response = client.post(
        "/graphql", json={"query": query}, headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    error: dict[str, object] = body["errors"][0]
    return error


@pytest.mark.parametrize(
    ("query", "code"),
    [
        # depth 3 (strawberry counts from 0): offer > offerEvents > dates > id
        ('{ offer(ref: "x") { offerEvents { dates { id } } } }', "GRAPHQL_LIMIT_EXCEEDED"),
        (
            "{ " + " ".join(f'a{n}: offerEvent(ref: "x") {{ id }}' for n in range(4)) + " }",
            "GRAPHQL_LIMIT_EXCEEDED",
        ),
        ('{ offerEvent(ref: "x") { ' + "id " * 300 + "} }", "GRAPHQL_LIMIT_EXCEEDED"),
        ("{ __schema { types { name } } }", "GRAPHQL_INVALID_QUERY"),
        ("{ offerEvent(ref: ", "GRAPHQL_INVALID_QUERY"),
        ("{ nothing }", "GRAPHQL_INVALID_QUERY"),
        ('{ offerEvent(id: "not-a-uuid") { id } }', "GRAPHQL_INVALID_QUERY"),
    ],
)
def test_a_document_over_a_limit_or_invalid_is_refused_with_a_code(
    component_stack: Stack, strict: TestClient, query: str, code: str
) -> None:
    error = _error(strict, component_stack.key(), query)
    assert "path" not in error  # refused before anything ran
    assert error["extensions"] == {"error": {"code": code, "message": error["message"]}}


def test_within_the_limits_a_query_runs(component_stack: Stack, strict: TestClient) -> None:
    error = _error(strict, component_stack.key(), '{ a: offerEvent(ref: "x") { id } }')
    assert error["extensions"]["error"]["code"] == "EVENT_NOT_FOUND"  # type: ignore[index]


def test_the_default_limits_hold_on_the_stack(component_stack: Stack) -> None:
    # 31 aliases: one over the default GRAPHQL_MAX_ALIASES
    query = "{ " + " ".join(f"a{n}: __typename" for n in range(31)) + " }"
    refusal(component_stack, component_stack.key(), query, code="GRAPHQL_LIMIT_EXCEEDED")


@pytest.mark.parametrize(
    ("method", "kwargs", "status", "code"),
    [
        (
            "GET",
            {"params": {"query": 'mutation { deleteOfferEvent(id: "%s") { ok } }' % ("0" * 32)}},
            400,
            "BAD_REQUEST",
        ),
        (
            "POST",
            {"content": b"{not json", "headers": {"content-type": "application/json"}},
            400,
            "BAD_REQUEST",
        ),
        ("POST", {"json": {"query": 1}}, 400, "BAD_REQUEST"),
        ("POST", {"json": {"query": "{ __typename }", "variables": "x"}}, 400, "BAD_REQUEST"),
        ("POST", {"json": [{"query": "{ __typename }"}]}, 400, "BAD_REQUEST"),
        ("GET", {}, 404, "NOT_FOUND"),  # GraphiQL is off by default
        ("PUT", {"json": {"query": "{ __typename }"}}, 405, "METHOD_NOT_ALLOWED"),
    ],
)
def test_a_request_that_is_not_graphql_over_http_gets_the_error_body(
    component_stack: Stack, method: str, kwargs: dict[str, object], status: int, code: str
) -> None:
    response = component_stack.client.request(method, "/graphql", **kwargs)  # type: ignore[arg-type]
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


def test_graphiql_is_served_where_the_setting_turns_it_on(component_stack: Stack) -> None:
    settings = component_stack.settings.model_copy(update={"graphql_graphiql": True})
    with TestClient(create_app(settings)) as client:
        page = client.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()


def test_rollcall_graphql_schema_prints_the_sdl() -> None:
    result = CliRunner().invoke(main, ["graphql-schema"], env={"DATABASE_URL": "sqlite://"})
    assert result.exit_code == 0, result.output
    for line in (
        "type OfferEvent {",
        "enum OfferEventType {",
        "offerEvent(id: UUID = null, ref: String = null): OfferEvent",
        "deleteOfferEvent(id: UUID!): DeleteOfferEvent",
        "editName(input: EditNameInput!): Success",
    ):
        assert line in result.output, line
