"""``/graphql`` on the intake app: strawberry's FastAPI router with Rollcall's
context and error codes. GraphiQL (``GET /graphql`` from a browser) only where
GRAPHQL_GRAPHIQL is on (``rollcall dev`` turns it on)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLHTTPResponse, process_result
from strawberry.types import ExecutionResult

from rollcall.config.settings import Settings
from rollcall.intake.graphql.context import Context, get_context
from rollcall.intake.graphql.errors import with_code
from rollcall.intake.graphql.schema import make_schema

PATH = "/graphql"


class RollcallGraphQLRouter(GraphQLRouter[Context, None]):
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
        context_getter=get_context,
        graphql_ide="graphiql" if settings.graphql_graphiql else None,
        # A query over GET is a read like any other; mutations need POST (strawberry).
        allow_queries_via_get=True,
        include_in_schema=False,
    )
    app.include_router(router)
