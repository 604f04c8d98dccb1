"""A database that hangs instead of failing: the connect and statement
timeouts turn it into a prompt 503 DATABASE_UNAVAILABLE, on a kept connection."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from rollcall.models.db import engine_of, normalise_url
from tests.support.http import client_port, error_of
from tests.support.services import SmtpSink
from tests.support.stack import live_api


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that completes the TCP handshake and then never says a word, as
    a hung server or a half-dead proxy does. Nothing accepts: the kernel's
    backlog holds the connections."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield int(sock.getsockname()[1])


def test_a_database_that_never_answers_is_unavailable_not_a_hang(
    monkeypatch: pytest.MonkeyPatch, silent_server: int, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    # Given the API pointed at a database server that accepts and never answers
    with live_api(
        monkeypatch,
        database_url=f"postgresql://postgres@127.0.0.1:{silent_server}/rollcall",
        smtp_url=smtp_sink.url,
        var_dir=str(tmp_path / "var"),
        database_connect_timeout_seconds="2",
    ) as stack:
        # When clients call it (the client itself would wait 60 s)
        first = stack.client.get("/v1/events", headers=stack.auth("rc_any"))
        second = stack.client.post("/v1/events", json={}, headers=stack.auth("rc_any"))
        ready = stack.client.get("/readyz")
        ports = {client_port(first), client_port(second), client_port(ready)}

    # Then the connect timeout answers for the database: 503, the JSON body, same connection
    for response in (first, second):
        assert response.status_code == 503, response.text
        assert error_of(response)["code"] == "DATABASE_UNAVAILABLE"
        assert "retry-after" in response.headers
    assert len(ports) == 1
    assert (ready.status_code, ready.json()["checks"]["database"]) == (503, "error")


@pytest.mark.postgres
def test_a_statement_stuck_behind_a_lock_is_cancelled(
    monkeypatch: pytest.MonkeyPatch, postgres_url: str, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    with live_api(
        monkeypatch,
        database_url=postgres_url,
        smtp_url=smtp_sink.url,
        var_dir=str(tmp_path / "var"),
        database_statement_timeout_ms="500",
    ) as stack:
        key = stack.key()
        ok = stack.client.get("/v1/events", headers=stack.auth(key))
        assert ok.status_code == 200

        # Given another session holds the API keys table locked (a migration, a
        # runaway transaction)
        locker = create_engine(normalise_url(postgres_url))
        try:
            with locker.connect() as connection:
                connection.execute(text("LOCK TABLE api_keys IN ACCESS EXCLUSIVE MODE"))

                # When a request needs that table, its statement waits past the timeout
                stuck = stack.client.get("/v1/events", headers=stack.auth(key))
                connection.rollback()
        finally:
            locker.dispose()

        # Then it is cancelled and answered 503, and the next request succeeds
        assert stuck.status_code == 503, stuck.text
        assert error_of(stuck)["code"] == "DATABASE_UNAVAILABLE"
        again = stack.client.get("/v1/events", headers=stack.auth(key))
        assert again.status_code == 200
        assert client_port(ok) == client_port(stuck) == client_port(again)


@pytest.mark.postgres
def test_pooled_connections_carry_the_configured_timeouts(
    monkeypatch: pytest.MonkeyPatch, postgres_url: str, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    with live_api(
        monkeypatch,
        database_url=postgres_url,
        smtp_url=smtp_sink.url,
        var_dir=str(tmp_path / "var"),
        database_statement_timeout_ms="1234",
        database_pool_timeout_seconds="3",
    ) as stack:
        engine = engine_of(stack.settings)
        with engine.connect() as connection:
            assert connection.execute(text("SHOW statement_timeout")).scalar() == "1234ms"
        assert engine.pool.timeout() == 3  # type: ignore[attr-defined]
