"""Seed 002's clients read ``statusCode`` beside the body: on the dialect's paths, an
error reply keeps Rollcall's ``{"error": {...}}`` and gains ``statusCode``."""

from __future__ import annotations

import json
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: The dialect's paths (``/orgs/{org_uuid}/events``, ``/events/{event_uuid}...``).
PATHS = re.compile(r"^/(orgs/[^/]+/events|events/[^/]+(/[a-z]+)?)/?$")


class StatusCodeOnErrors:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not PATHS.match(scope["path"]):
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def buffered(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                if message["status"] < 400:
                    await send(message)
                else:
                    start = message
                return
            if start is None or message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                await _send_with_status(send, start, b"".join(chunks))

        await self.app(scope, receive, buffered)


async def _send_with_status(send: Send, start: Message, body: bytes) -> None:
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if isinstance(data, dict) and "error" in data:
        data["statusCode"] = start["status"]
        body = json.dumps(data).encode()
    headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
    headers.append((b"content-length", str(len(body)).encode()))
    await send({**start, "headers": headers})
    await send({"type": "http.response.body", "body": body})
