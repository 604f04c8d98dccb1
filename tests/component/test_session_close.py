"""A request whose database connection dies before its session closes: the
answer stands (the connection was thrown away; nothing was committed)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from tests.support.factories import published_event
from tests.support.stack import Stack


def test_a_connection_lost_at_the_sessions_close_does_not_break_the_answer(
    component_stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an event, and a server that terminates the connection before the
    # request's session closes (its ROLLBACK then fails, as PostgreSQL's
    # "terminating connection due to administrator command")
    key = component_stack.key()
    published_event(component_stack, key, ref="e")
    real_close = Session.close
    lost: list[str] = []

    def close(self: Session, *args: Any, **kwargs: Any) -> None:
        real_close(self, *args, **kwargs)
        lost.append("closed")
        raise sa_exc.OperationalError("ROLLBACK", {}, Exception("terminating connection"))

    monkeypatch.setattr(Session, "close", close)

    # When it is read over REST and over GraphQL
    shown = component_stack.client.get("/v1/events/e", headers=component_stack.auth(key))
    asked = component_stack.client.post(
        "/graphql",
        json={"query": '{ offerEvent(ref: "e") { ref } }'},
        headers=component_stack.auth(key),
    )

    # Then both answer (TestClient raises what the app raised after answering)
    assert shown.status_code == 200 and shown.json()["ref"] == "e"
    assert asked.status_code == 200 and asked.json()["data"]["offerEvent"]["ref"] == "e"
    assert lost
