"""A bound on request body size, answered with the one JSON error body.

Starlette's own RequestBodyLimitMiddleware (FastAPI's ``max_body_size``)
answers a declared oversize body with a plain-text 413, so this small ASGI
middleware does the same job in the API's voice: a ``Content-Length`` above
the limit is refused before the app runs; a streamed body is counted as it
is read, and the read fails with 413 once it passes the limit.
"""

from __future__ import annotations

import re

from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rollcall.intake.errors import error_body

#: Bodies above these sizes are refused with 413 PAYLOAD_TOO_LARGE.
MAX_BODY_BYTES = 1024 * 1024
#: A bulk enrollment: 10,000 rows of up to ~800 bytes each, with room to spare.
MAX_BULK_BODY_BYTES = 16 * 1024 * 1024
_BULK_PATH = re.compile(r"^/v1/events/[^/]+/enrollments/bulk/?$")


def body_limit_for(path: str) -> int:
    return MAX_BULK_BODY_BYTES if _BULK_PATH.match(path) else MAX_BODY_BYTES


def _too_large(limit: int) -> str:
    return f"the request body is larger than {limit} bytes"


class BodyLimit:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = body_limit_for(scope["path"])
        declared = dict(scope["headers"]).get(b"content-length", b"")
        # The length first: int() of a 5,000-digit header would raise.
        if declared.isdigit() and (len(declared) > 12 or int(declared) > limit):
            response = JSONResponse(
                error_body("PAYLOAD_TOO_LARGE", _too_large(limit), {"max_bytes": limit}),
                status_code=413,
            )
            await response(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # Raised into the read; intake.errors answers it as JSON.
                    raise HTTPException(413, _too_large(limit))
            return message

        await self.app(scope, counted, send)
