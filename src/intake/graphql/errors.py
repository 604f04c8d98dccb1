"""Every GraphQL error carries Rollcall's stable code: ``extensions.error`` is
the REST error body's ``error`` (``code``, ``message``, ``details``).

A domain refusal keeps its code; where a seed gives its own sentence for the
operation (seed 001: "Cannot edit name for an event, which has already been
published."), that sentence is the ``message``. A document that does not parse
or validate is GRAPHQL_INVALID_QUERY, one over a limit (depth, aliases,
tokens) GRAPHQL_LIMIT_EXCEEDED; a failure nobody foresaw is INTERNAL_ERROR,
logged in full and told without its text, as REST does.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from graphql import GraphQLError
from sqlalchemy import exc as sa_exc
from strawberry.exceptions import StrawberryInputCoercionError

from rollcall.domain import errors
from rollcall.domain.errors.graphql import GraphQLInvalidQuery, GraphQLLimitExceeded
from rollcall.models.db import is_database_unavailable

logger = logging.getLogger("rollcall.intake.graphql")

#: What graphql-core's and strawberry's limit rules say, to tell a limit from
#: any other invalid document (they raise plain GraphQLErrors).
_LIMIT_PHRASES = (
    "exceeds maximum operation depth",  # QueryDepthLimiter
    "aliases found. Allowed",  # MaxAliasesLimiter
    "tokens. Parsing aborted",  # MaxTokensLimiter (graphql-core's parser)
)


_NOT_FOUND = "Event not found."
_SOLD = "Tickets for this event have already been sold or reserved."

#: Seed 001's sentences, by operation and Rollcall code. Where the seed lists
#: none (description, registration end), the sentence is editName's, for that field.
SEED_001_SENTENCES: dict[str, dict[str, str]] = {
    "editName": {
        "EVENT_NOT_FOUND": _NOT_FOUND,
        "EVENT_COMPLETED": "Cannot edit name for an event, which is completed.",
        "EVENT_NOT_DRAFT": "Cannot edit name for an event, which has already been published.",
    },
    "addOrEditDescription": {
        "EVENT_NOT_FOUND": _NOT_FOUND,
        "EVENT_COMPLETED": "Cannot edit description for an event, which is completed.",
    },
    "addOrEditRegistrationEnd": {
        "EVENT_NOT_FOUND": _NOT_FOUND,
        "EVENT_COMPLETED": "Cannot edit registration end for an event, which is completed.",
        "EVENT_NOT_DRAFT": (
            "Cannot edit registration end for an event, which has already been published."
        ),
    },
    "unpublishEvent": {
        "EVENT_NOT_FOUND": "Event with given id not found.",
        "EVENT_ALREADY_UNPUBLISHED": "Event is already unpublished",
        "EVENT_COMPLETED": "Event is already completed and cannot be unpublished.",
        "EVENT_HAS_ENROLLMENTS": _SOLD,
    },
    "deleteEvent": {
        "EVENT_NOT_FOUND": _NOT_FOUND,
        "EVENT_COMPLETED": "Cannot delete completed event",
        "EVENT_IS_PUBLISHED": "Cannot delete published event",
        "EVENT_HAS_ENROLLMENTS": _SOLD,
    },
}


class SeedRefusal(Exception):
    """A domain refusal told in the seed's own sentence for the operation."""

    def __init__(self, error: errors.RollcallError, sentence: str) -> None:
        super().__init__(sentence)
        self.error = error
        self.sentence = sentence


@contextmanager
def seed_sentences(sentences: Mapping[str, str]) -> Iterator[None]:
    """Re-raise a domain refusal whose code is in ``sentences`` with that sentence."""
    try:
        yield
    except errors.RollcallError as exc:
        sentence = sentences.get(exc.code)
        if sentence is None:
            raise
        raise SeedRefusal(exc, sentence) from exc


def _domain_error(error: GraphQLError) -> tuple[errors.RollcallError, str]:
    """The Rollcall error behind ``error`` and the message to show."""
    original = error.original_error
    if isinstance(original, SeedRefusal):
        return original.error, original.sentence
    if isinstance(original, errors.RollcallError):
        return original, original.message
    if original is None or error.path is None or isinstance(original, StrawberryInputCoercionError):
        # Not raised by a resolver (those errors have a path): the document or
        # its variables, refused by the parser, the validation rules or a
        # scalar's coercion (original_error is then the scalar's own error).
        text = error.message
        if any(phrase in text for phrase in _LIMIT_PHRASES):
            return GraphQLLimitExceeded(text), text
        return GraphQLInvalidQuery(text), text
    if isinstance(original, sa_exc.DBAPIError | sa_exc.TimeoutError) and (
        is_database_unavailable(original)
    ):
        logger.warning("database unavailable: %s: %s", type(original).__name__, original)
        failure: errors.RollcallError = errors.DatabaseUnavailable()
        return failure, failure.message
    logger.error("unhandled error: %s", type(original).__name__, exc_info=original)
    failure = errors.InternalError()
    return failure, failure.message


def with_code(error: GraphQLError) -> GraphQLError:
    """``error`` as the client sees it: the message, and the code in ``extensions.error``."""
    domain, message = _domain_error(error)
    body = domain.as_dict()
    body["message"] = message
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={**(error.extensions or {}), "error": body},
    )
