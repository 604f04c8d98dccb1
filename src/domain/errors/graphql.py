"""Errors of the GraphQL edge (issue 16) that are not a domain refusal."""

from __future__ import annotations

from rollcall.domain.errors import Invalid


class GraphQLInvalidQuery(Invalid):
    """The GraphQL document does not parse or does not validate against the schema."""

    code = "GRAPHQL_INVALID_QUERY"


class GraphQLLimitExceeded(Invalid):
    """The GraphQL document is over a limit: depth, aliases or tokens."""

    code = "GRAPHQL_LIMIT_EXCEEDED"
