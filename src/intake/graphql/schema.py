"""The one schema: the root Query and Mutation joined from the per-area modules.

To add an area: write a module here with a ``@strawberry.type class Query``
and/or ``class Mutation`` holding its fields, and list it in ``QUERIES`` /
``MUTATIONS``. The limits and introspection come from the settings.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from rollcall.config.settings import Settings
from rollcall.intake.graphql import calendar, enrollment, lifecycle, offer_events, offers
from rollcall.intake.graphql.projection import ProjectingExecutionContext

#: The areas' root types, joined in this order.
QUERIES: tuple[type, ...] = (offers.Query, enrollment.Query, calendar.Query)
MUTATIONS: tuple[type, ...] = (
    offers.Mutation,
    offer_events.Mutation,
    lifecycle.Mutation,
    enrollment.Mutation,
)


class RollcallSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Not strawberry's log of every error: a refusal is no news, and
        errors.with_code logs the failures nobody foresaw, once."""


def make_schema(settings: Settings) -> strawberry.Schema:
    # The depth and alias limits are validation rules: made once here, so that
    # every request adds the same rule classes and ValidationCache (keyed by
    # document and rules) answers a document it has seen from its cache.
    limits = [
        *QueryDepthLimiter(max_depth=settings.graphql_max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=settings.graphql_max_aliases).validation_rules,
    ]
    # Factories: strawberry makes a fresh extension for each request.
    extensions: list[type[SchemaExtension] | Callable[[], SchemaExtension]] = [
        partial(MaxTokensLimiter, max_token_count=settings.graphql_max_tokens),
        partial(AddValidationRules, limits),
        # A client sends the same few documents: parse and validate each once.
        partial(ParserCache, maxsize=256),
        partial(ValidationCache, maxsize=256),
    ]
    if not settings.graphql_introspection:
        extensions.append(DisableIntrospection)
    return RollcallSchema(
        query=merge_types("Query", QUERIES),
        mutation=merge_types("Mutation", MUTATIONS),
        extensions=extensions,
        # Completes a resolver's Projected plain data without a resolver per field.
        execution_context_class=ProjectingExecutionContext,
    )
