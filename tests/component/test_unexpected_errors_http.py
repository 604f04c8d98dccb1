"""Any error, foreseen or not, answers with the one JSON body over real HTTP and
leaves the client's keep-alive connection open (uvicorn closes it when the
application raises after answering, which Starlette's own 500 handler does)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError

from tests.support.http import client_port, error_of
from tests.support.logs import log_lines
from tests.support.services import SmtpSink
from tests.support.stack import Stack, live_api

SECRET_DETAIL = "db.internal:5432 password=hunter2"


@pytest.fixture
def api(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str, smtp_sink: SmtpSink, tmp_path: Path
) -> Iterator[Stack]:
    with live_api(
        monkeypatch, database_url=sqlite_url, smtp_url=smtp_sink.url, var_dir=str(tmp_path / "v")
    ) as stack:
        yield stack


@pytest.mark.parametrize(
    "failure",
    [RuntimeError(SECRET_DETAIL), IntegrityError("INSERT ...", {}, Exception(SECRET_DETAIL))],
    ids=["bug", "database-bug"],
)
def test_an_unexpected_error_is_a_json_500_on_a_kept_connection(
    api: Stack, monkeypatch: pytest.MonkeyPatch, failure: Exception
) -> None:
    # Given a key, and a request that works, on one connection
    key = api.key()
    ok = api.client.get("/v1/events", headers=api.auth(key))
    assert ok.status_code == 200

    # When the code behind a route fails in a way nobody foresaw
    def broken(*_args: object, **_kwargs: object) -> None:
        raise failure

    monkeypatch.setattr("rollcall.messaging.key_epoch.authenticate", broken)
    with log_lines() as logs:
        failed = api.client.get(
            "/v1/events", headers=api.auth(key) | {"X-Request-ID": "req-boom-1"}
        )

    # Then the client gets INTERNAL_ERROR in the one body, without the error's text
    assert failed.status_code == 500
    assert error_of(failed)["code"] == "INTERNAL_ERROR"
    assert "hunter2" not in failed.text and "db.internal" not in failed.text
    assert failed.headers["x-request-id"] == "req-boom-1"
    # And the log has the whole story under the request id
    [line] = [line for line in logs.lines if line["msg"].startswith("unhandled error")]  # type: ignore[union-attr]
    assert line["request_id"] == "req-boom-1" and line["level"] == "error"
    assert "db.internal" in str(line["exc"])
    # And the connection is still the same one, and serves the next request
    monkeypatch.undo()
    again = api.client.get("/v1/events", headers=api.auth(key))
    assert again.status_code == 200
    assert client_port(ok) == client_port(failed) == client_port(again)


def test_client_errors_keep_the_connection_too(api: Stack) -> None:
    key = api.key()
    responses = [
        api.client.get("/v1/events"),  # 401
        api.client.get("/v1/events/nope", headers=api.auth(key)),  # 404
        api.client.post("/v1/events", json={"name": 1}, headers=api.auth(key)),  # 422
        api.client.get("/no/such/route"),  # 404 from the router
        api.client.delete("/healthz"),  # 405
        api.client.get("/v1/events", headers=api.auth(key)),
    ]
    assert [r.status_code for r in responses] == [401, 404, 422, 404, 405, 200]
    for response in responses[:-1]:
        error_of(response)
    assert len({client_port(r) for r in responses}) == 1
