"""Shortcuts for GraphQL tests: post a document to /graphql, read its data or its error."""

from __future__ import annotations

from typing import Any

from tests.support.stack import Stack


def post(
    stack: Stack, key: str | None, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The response body of ``query``; GraphQL answers 200, errors or not."""
    headers = stack.auth(key) if key is not None else {}
    response = stack.client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def data(
    stack: Stack, key: str | None, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    body = post(stack, key, query, variables)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]
    return result


def refusal(
    stack: Stack,
    key: str | None,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    code: str,
) -> dict[str, Any]:
    """The one error of ``query``, checked to carry ``code`` in ``extensions.error``."""
    body = post(stack, key, query, variables)
    assert len(body.get("errors", [])) == 1, body
    error: dict[str, Any] = body["errors"][0]
    assert error["extensions"]["error"]["code"] == code, error
    assert error["extensions"]["error"]["message"] == error["message"]
    return error
