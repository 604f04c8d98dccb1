"""Reading request bodies within bounds.

Every JSON body is parsed by pydantic-core's parser (``parse_json``), not the
standard library's: it refuses nesting deeper than about 200 levels and integers
longer than 4,300 digits while parsing (``json.loads`` raised RecursionError
and ValueError there, which surfaced as 500s), as well as invalid UTF-8,
lone surrogates, NaN and Infinity. Routes get it through ``BoundedJsonRoute``
(FastAPI's documented way to customise the request a route reads); the bulk
route, which reads its body by hand, calls ``parse_json`` itself.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from pydantic_core import from_json

from rollcall.domain.errors import Invalid


class InvalidJson(Invalid):
    """The body is not valid JSON."""


def parse_json(body: bytes) -> Any:
    """The JSON value of ``body``; raises InvalidJson (422) with the parser's reason."""
    try:
        return from_json(body, allow_inf_nan=False)
    except ValueError as exc:
        raise InvalidJson(f"the body is not valid JSON: {exc}") from None


class _BoundedJsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            try:
                self._json = parse_json(await self.body())
            except InvalidJson as exc:
                # FastAPI turns a JSONDecodeError into its 422 "json_invalid" error.
                raise json.JSONDecodeError(exc.message, "", 0) from None
        return self._json


class BoundedJsonRoute(APIRoute):
    """An APIRoute whose JSON body is read by ``parse_json``."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def bounded(request: Request) -> Response:
            return await handler(_BoundedJsonRequest(request.scope, request.receive))

        return bounded
