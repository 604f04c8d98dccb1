"""``/graphql`` on the intake app: strawberry's FastAPI router with Rollcall's
context and error codes. GraphiQL (``GET /graphql`` from a browser) only where
GRAPHQL_GRAPHIQL is on (``rollcall dev`` turns it on)."""

from __future__ import annotations

from typing import Any

from cross_web import HTTPException
from fastapi import FastAPI, Request
from pydantic_core import to_json
from starlette.exceptions import HTTPException as StarletteHTTPException
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLHTTPResponse, process_result
from strawberry.types import ExecutionResult

from rollcall.config.settings import Settings
from rollcall.intake.graphql.context import Context, get_context
from rollcall.intake.graphql.errors import with_code
from rollcall.intake.graphql.schema import make_schema

PATH = "/graphql"


class RollcallGraphQLRouter(GraphQLRouter[Context, None]):
    async def run(self, *args: Any, **kwargs: Any) -> Any:
        """Strawberry's refusals of the HTTP request itself (not JSON, a mutation
        over GET, batching, ...) in Rollcall's error body: the app's handler
        for HTTP errors gives them their code (BAD_REQUEST, NOT_FOUND, ...)."""
        try:
            return await super().run(*args, **kwargs)
        except HTTPException as exc:
            raise StarletteHTTPException(exc.status_code, exc.reason) from exc

    def encode_json(self, data: object) -> bytes:
        """pydantic-core's serialiser (REST's), not the stdlib's: a calendar
        page's answer is ~30 kB. The answer holds JSON values only (the scalars
        serialised them), so the text differs at most in escaping non-ASCII."""
        return to_json(data)

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        if result.errors:
            result = ExecutionResult(
                data=result.data,
                errors=[with_code(error) for error in result.errors],
                extensions=result.extensions,
            )
        return process_result(result)


def install_graphql(app: FastAPI, settings: Settings) -> None:
    router: RollcallGraphQLRouter = RollcallGraphQLRouter(
        make_schema(settings),
        path=PATH,
        # A FastAPI dependency that yields (it closes the session); strawberry's
        # hint names only plain and awaitable getters.
        context_getter=get_context,  # type: ignore[arg-type]
        graphql_ide="graphiql" if settings.graphql_graphiql else None,
        # A query over GET is a read like any other; mutations need POST (strawberry).
        allow_queries_via_get=True,
        include_in_schema=False,
        subscription_protocols=(),  # no subscriptions: a websocket is refused
    )
    app.include_router(router)
