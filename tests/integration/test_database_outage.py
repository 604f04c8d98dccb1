"""PostgreSQL stopped under a live API: 503 with the one JSON body and a
Retry-After, the client's keep-alive connection kept, and recovery on its own.

The database is a private cluster (tests/support/pg_cluster.py), never the
shared server, so stopping it disturbs nobody.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rollcall.intake.errors import RETRY_AFTER_SECONDS
from rollcall.models import migrate
from tests.support.calendar import add_attendee, issue_token, org_id
from tests.support.factories import published_event
from tests.support.http import client_port, error_of
from tests.support.ops import sign_in
from tests.support.pg_cluster import PrivateCluster
from tests.support.services import SmtpSink
from tests.support.stack import Stack, live_api

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

OUTAGE_SECONDS = 10


@pytest.fixture
def cluster() -> Iterator[PrivateCluster]:
    cluster = PrivateCluster().init()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.remove()


@pytest.fixture
def stack(
    monkeypatch: pytest.MonkeyPatch, cluster: PrivateCluster, smtp_sink: SmtpSink, tmp_path: Path
) -> Iterator[Stack]:
    migrate.upgrade(cluster.url)
    with live_api(
        monkeypatch,
        database_url=cluster.url,
        smtp_url=smtp_sink.url,
        var_dir=str(tmp_path / "var"),
        database_connect_timeout_seconds="2",
    ) as stack:
        yield stack


def test_database_stopped_for_ten_seconds(stack: Stack, cluster: PrivateCluster) -> None:
    # Given an event, an attendee's calendar token, a dashboard session, and one
    # HTTP client whose keep-alive connection carries every request below
    key = stack.key(operator=True)
    published_event(stack, key, ref="live", max_subscriptions=50)
    with stack.db() as session:
        add_attendee(session, org_id(session), "ada")
    token = issue_token(stack, key, "ada")
    ops = sign_in(stack, key)
    port = client_port(stack.client.get("/v1/events/live", headers=stack.auth(key)))
    person = {"attendee": {"ref": "bob", "email": "bob@example.org"}}
    calls: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", "/v1/events", {"headers": stack.auth(key)}),
        ("GET", "/v1/events/live", {"headers": stack.auth(key)}),
        (
            "POST",
            "/v1/events",
            {"headers": stack.auth(key), "json": {"name": "New", "type": "MEETING"}},
        ),
        ("POST", "/v1/events/live/enrollments", {"headers": stack.auth(key), "json": person}),
        (
            "GET",
            "/v1/calendar",
            {"headers": stack.auth(token), "params": {"fromDate": "2030-01-01"}},
        ),
        ("GET", "/v1/calendar.ics", {"headers": stack.auth(token)}),
        ("GET", "/ops/jobs", {"headers": ops}),
        ("POST", "/ops/dead-letters/act", {"headers": ops, "data": ops.form(action="requeue")}),
    ]

    # When PostgreSQL stops for ten seconds
    cluster.stop()
    answered: Counter[str] = Counter()
    ends = time.monotonic() + OUTAGE_SECONDS
    while time.monotonic() < ends:
        for method, path, options in calls:
            response = stack.client.request(method, path, **options)
            # Then every answer is a 503 with the JSON body and a Retry-After...
            assert response.status_code == 503, (method, path, response.text[:300])
            assert error_of(response)["code"] == "DATABASE_UNAVAILABLE"
            assert response.headers["retry-after"] == str(RETRY_AFTER_SECONDS)
            # ...that says nothing of where the database is...
            assert str(cluster.port) not in response.text and "127.0.0.1" not in response.text
            # ...on the same connection, never reset
            assert client_port(response) == port, (method, path)
            answered[f"{method} {path}"] += 1
        time.sleep(0.1)  # pacing the rounds on a shared machine, not waiting for anything
    assert set(answered) == {f"{method} {path}" for method, path, _ in calls}
    ready = stack.client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json() == {
        "status": "unavailable",
        "checks": {"database": "error", "redis": "ok", "smtp": "ok"},
        "producers": {},
    }

    # When it is back, the API recovers by itself (no restart), still on that connection
    cluster.start()
    deadline = time.monotonic() + 60
    while (back := stack.client.get("/v1/events/live", headers=stack.auth(key))).status_code != 200:
        assert back.status_code == 503 and error_of(back)["code"] == "DATABASE_UNAVAILABLE"
        assert time.monotonic() < deadline, "the API did not recover within 60 s"
        time.sleep(0.1)
    expected = [200, 200, 201, 202, 200, 200, 200, 303]
    for (method, path, options), status in zip(calls, expected, strict=True):
        response = stack.client.request(method, path, follow_redirects=False, **options)
        assert response.status_code == status, (method, path, response.text[:300])
        assert client_port(response) == port
    assert stack.client.get("/readyz").status_code == 200
