"""A failure nobody foresaw, inside a resolver, is a GraphQL error with the
code INTERNAL_ERROR and without the failure's text (logged in full), never a
5xx; a database that is down is DATABASE_UNAVAILABLE, as over REST."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from tests.support.graphql import refusal
from tests.support.logs import log_lines
from tests.support.stack import Stack

SECRET_DETAIL = "db.internal:5432 password=hunter2"
QUERY = 'query { offerEvent(ref: "x") { id } }'


@pytest.mark.parametrize(
    ("failure", "code"),
    [
        (RuntimeError(SECRET_DETAIL), "INTERNAL_ERROR"),
        (IntegrityError("INSERT ...", {}, Exception(SECRET_DETAIL)), "INTERNAL_ERROR"),
        (OperationalError("SELECT 1", {}, Exception(SECRET_DETAIL)), "DATABASE_UNAVAILABLE"),
    ],
    ids=["bug", "database-bug", "database-down"],
)
def test_an_unforeseen_failure_is_told_by_its_code_only(
    component_stack: Stack, monkeypatch: pytest.MonkeyPatch, failure: Exception, code: str
) -> None:
    # Given a resolver whose domain call fails in a way nobody foresaw
    key = component_stack.key()

    def broken(*_args: object, **_kwargs: object) -> None:
        raise failure

    monkeypatch.setattr("rollcall.intake.graphql.offers.get_event", broken)

    # When a client asks
    with log_lines() as logs:
        error = refusal(component_stack, key, QUERY, code=code)

    # Then it gets the code without the failure's text, and the log has the text
    assert "hunter2" not in str(error) and "db.internal" not in str(error)
    assert any(
        "db.internal" in str(line.get("exc", "")) or "db.internal" in str(line.get("msg", ""))
        for line in logs.lines
    )  # type: ignore[union-attr]
