"""On PostgreSQL a calendar page, over REST and over GraphQL, reads in
autocommit: its two statements (the token, the window) run without a
``BEGIN``/``ROLLBACK`` round trip around them (models.db.read_sessions_of);
and a revoked token is still refused on the next page."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event as sa_event

from rollcall.models.db import engine_of
from tests.support.calendar import BASE, add_attendee, add_event, calendar, issue_token, org_id
from tests.support.stack import Stack

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

PAGE = """query { getCalendarEvents(fromDate: "2030-01-01T00:00:00Z", first: 20) {
  edges { cursor node { id title ctas { action } } } pageInfo { endCursor } } }"""


@contextmanager
def autocommit_flags(stack: Stack) -> Iterator[list[bool]]:
    """Whether the DBAPI connection was in autocommit, per statement run."""
    flags: list[bool] = []
    engine = engine_of(stack.settings)

    def note(conn: Any, *_args: object) -> None:
        flags.append(bool(conn.connection.dbapi_connection.autocommit))

    sa_event.listen(engine, "before_cursor_execute", note)
    try:
        yield flags
    finally:
        sa_event.remove(engine, "before_cursor_execute", note)


@pytest.fixture
def token(real_stack: Stack) -> str:
    key = real_stack.key()
    with real_stack.db() as session:
        org = org_id(session)
        add_attendee(session, org, "ada")
        add_event(
            session, org, name="Series", starts=[BASE + timedelta(hours=i) for i in range(30)]
        )
    return issue_token(real_stack, key, "ada")


def test_a_rest_page_reads_in_autocommit(real_stack: Stack, token: str) -> None:
    assert calendar(real_stack, token, first=20).status_code == 200  # warm

    with autocommit_flags(real_stack) as flags:
        response = calendar(real_stack, token, first=20)

    assert response.status_code == 200 and len(response.json()["entries"]) == 20
    assert flags == [True, True]


def test_a_graphql_page_reads_in_autocommit(real_stack: Stack, token: str) -> None:
    headers = real_stack.auth(token)
    real_stack.client.post("/graphql", json={"query": PAGE}, headers=headers)  # warm

    with autocommit_flags(real_stack) as flags:
        body = real_stack.client.post("/graphql", json={"query": PAGE}, headers=headers).json()

    assert "errors" not in body and len(body["data"]["getCalendarEvents"]["edges"]) == 20
    assert flags == [True, True]


def test_a_revoked_token_is_refused_on_the_next_page(real_stack: Stack, token: str) -> None:
    key = real_stack.key()
    assert calendar(real_stack, token, first=5).status_code == 200
    listed = real_stack.client.get("/v1/attendees/ada/tokens", headers=real_stack.auth(key))
    token_id = listed.json()["tokens"][0]["token_id"]
    revoked = real_stack.client.delete(
        f"/v1/attendees/ada/tokens/{token_id}", headers=real_stack.auth(key)
    )
    assert revoked.status_code in (200, 204), revoked.text

    assert calendar(real_stack, token, first=5).status_code == 401
    body = real_stack.client.post(
        "/graphql", json={"query": PAGE}, headers=real_stack.auth(token)
    ).json()
    assert body["errors"][0]["extensions"]["error"]["code"] == "INVALID_TOKEN"
