"""What a test can tell about an HTTP exchange beyond its body."""

from __future__ import annotations

from typing import Any

import httpx


def client_port(response: httpx.Response) -> int:
    """The local port of the connection that carried ``response``: the same
    port on two responses means the keep-alive connection was reused."""
    address: Any = response.extensions["network_stream"].get_extra_info("client_addr")
    return int(address[1])


def error_of(response: httpx.Response) -> dict[str, Any]:
    """The one error body, checked for its shape: ``{"error": {"code", "message"}}``."""
    assert response.headers["content-type"] == "application/json", (
        response.status_code,
        response.headers.get("content-type"),
        response.text[:300],
    )
    body = response.json()
    assert set(body) == {"error"} and {"code", "message"} <= set(body["error"]), body
    return dict(body["error"])
