"""The request's context: its id, and the last word on any error.

A pure ASGI middleware, not Starlette's ``BaseHTTPMiddleware``, and not an
``Exception`` handler: Starlette runs that one in ``ServerErrorMiddleware``,
which answers and then re-raises, and uvicorn closes the keep-alive connection
of any request whose application raised after answering. Here an unexpected
error becomes the one JSON body (``INTERNAL_ERROR``, logged with the request
id) and nothing is re-raised, so the client's connection stays open.
"""

from __future__ import annotations

import uuid

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rollcall.config.logs import request_id_var
from rollcall.domain.bounds import text_problem
from rollcall.intake.errors import internal_error_response

REQUEST_ID_HEADER = "X-Request-ID"


class RequestContext:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = (Headers(scope=scope).get(REQUEST_ID_HEADER) or "")[:64]
        if not rid or text_problem(rid) is not None:  # it is stored with jobs and logged
            rid = uuid.uuid4().hex
        token = request_id_var.set(rid)
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = rid
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            if started:
                # Part of a response is out: only closing the connection can
                # tell the client it is incomplete.
                raise
            await internal_error_response(exc)(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)
