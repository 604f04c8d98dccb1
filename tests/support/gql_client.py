"""A real GraphQL client (``gql`` over aiohttp) against a stack's uvicorn."""

from __future__ import annotations

from typing import Any

from gql import Client, GraphQLRequest
from gql.transport.aiohttp import AIOHTTPTransport
from gql.transport.exceptions import TransportQueryError

from tests.support.stack import Stack


def gql_client(stack: Stack, credential: str) -> Client:
    server = stack.extra["server"]
    transport = AIOHTTPTransport(
        url=f"{server.url}/graphql",
        headers={"Authorization": f"Bearer {credential}"},
    )
    return Client(transport=transport, fetch_schema_from_transport=False, execute_timeout=60)


def request(document: str, variables: dict[str, Any]) -> GraphQLRequest:
    return GraphQLRequest(document, variable_values=variables or None)


def run(client: Client, document: str, **variables: Any) -> dict[str, Any]:
    return dict(client.execute(request(document, variables)))


def refused(client: Client, document: str, **variables: Any) -> dict[str, Any]:
    """The first GraphQL error's ``extensions.error`` (code, message, details)."""
    try:
        client.execute(request(document, variables))
    except TransportQueryError as error:
        assert error.errors, error
        return dict(error.errors[0]["extensions"]["error"])
    raise AssertionError("the operation was not refused")
