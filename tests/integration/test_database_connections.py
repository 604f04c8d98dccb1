"""Connections to PostgreSQL. A server out of connection slots ("too many clients", SQLSTATE
53300): the API answers 503 with the JSON body on the same keep-alive
connection, never a 500 or a dropped connection, and a worker that cannot get
a connection retries its jobs: no accepted booking is lost.

A pooled connection the server closed (a restart) is dropped at checkout, without
a pre-ping round trip: the first request after the restart is answered.

The database is a private cluster with a low ``max_connections``
(tests/support/pg_cluster.py); the test holds every free slot itself.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from sqlalchemy import func, select

from rollcall.models import Enrollment, Job, migrate
from tests.support.factories import published_event
from tests.support.faults import LiveStack, WorkerProcess, recovery_tick
from tests.support.http import client_port, error_of
from tests.support.pg_cluster import PrivateCluster
from tests.support.services import RedisServer, SmtpSink
from tests.support.stack import live_api
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

#: Small enough to fill quickly; the superuser the tests connect as may use every slot.
MAX_CONNECTIONS = 12
BOOKINGS = 16
TOO_MANY_CLIENTS = "53300"


@pytest.fixture
def cluster() -> Iterator[PrivateCluster]:
    cluster = PrivateCluster().init()
    try:
        cluster.start(max_connections=MAX_CONNECTIONS, superuser_reserved_connections=0)
        migrate.upgrade(cluster.url)
        yield cluster
    finally:
        cluster.remove()


def fill_slots(url: str) -> list[psycopg.Connection[object]]:
    """End every other session (the API's pooled connections: its pool then
    finds them dead at checkout), then open connections until the server
    refuses one with 53300; keep them. A backend exits a moment after it is
    told to, so wait for that first: the slot it frees would go to whoever
    asks next."""
    others = (
        "FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
    )
    with psycopg.connect(url, autocommit=True) as probe:
        probe.execute(f"SELECT pg_terminate_backend(pid) {others}")
        wait_until(
            lambda: probe.execute(f"SELECT count(*) {others}").fetchone() == (0,),
            timeout=30,
            what="the server's other sessions gone",
        )
    held: list[psycopg.Connection[object]] = []
    while True:
        try:
            held.append(psycopg.connect(url, autocommit=True, connect_timeout=5))
        except psycopg.OperationalError as exc:
            assert exc.sqlstate == TOO_MANY_CLIENTS or "too many clients" in str(exc), exc
            return held
        assert len(held) <= MAX_CONNECTIONS, "the server never said too many clients"


def release(held: list[psycopg.Connection[object]], count: int | None = None) -> None:
    for _ in range(len(held) if count is None else count):
        held.pop().close()


async def book_concurrently(
    base_url: httpx.URL, headers: dict[str, str]
) -> list[tuple[int, str, bool]]:
    """BOOKINGS clients, each on its own connection, posting two bookings at
    once; per answer its status, body and whether its connection was kept."""

    async def one(number: int) -> list[tuple[int, str, bool]]:
        answers: list[tuple[int, str, bool]] = []
        async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
            ports: set[int] = set()
            for turn in range(2):
                ref = f"p{number}-{turn}"
                response = await client.post(
                    "/v1/events/full/enrollments",
                    json={"attendee": {"ref": ref, "email": f"{ref}@x.org"}},
                    headers=headers,
                )
                ports.add(client_port(response))
                answers.append((response.status_code, response.text, len(ports) == 1))
        return answers

    results = await asyncio.gather(*(one(number) for number in range(BOOKINGS)))
    return [answer for answers in results for answer in answers]


def test_too_many_clients_answers_503_and_loses_no_booking(
    live: LiveStack, cluster: PrivateCluster, redis_server: RedisServer, tmp_path: Path
) -> None:
    with live(redis_url=redis_server.url, database_url=cluster.url) as stack:
        key = stack.key()
        published_event(stack, key, ref="full", max_subscriptions=BOOKINGS * 2)
        port = client_port(stack.client.get("/v1/events/full", headers=stack.auth(key)))

        # Given a server whose every connection slot is taken (the API's sessions ended first)
        held = fill_slots(cluster.url)
        try:
            # When bookings and reads arrive, each answers 503 with the JSON body,
            # on the same keep-alive connection
            for number in range(3):
                for method, path, body in (
                    ("GET", "/v1/events/full", None),
                    ("GET", "/v1/events", None),
                    (
                        "POST",
                        "/v1/events/full/enrollments",
                        {"attendee": {"ref": f"early{number}", "email": f"e{number}@x.org"}},
                    ),
                ):
                    response = stack.client.request(
                        method, path, json=body, headers=stack.auth(key)
                    )
                    assert response.status_code == 503, (method, path, response.text[:300])
                    assert error_of(response)["code"] == "DATABASE_UNAVAILABLE"
                    assert "retry-after" in response.headers
                    assert client_port(response) == port

            # When a few slots come free and bookings arrive all at once, on
            # more connections than there are slots, the API takes what it can
            # and answers 503 to the rest, each on its own kept connection
            release(held, 2)
            answers = asyncio.run(book_concurrently(stack.client.base_url, stack.auth(key)))
            accepted: list[str] = []
            for status, body, same_connection in answers:
                assert status in (202, 503), body[:300]
                assert same_connection
                if status == 503:
                    assert json.loads(body)["error"]["code"] == "DATABASE_UNAVAILABLE"
                else:
                    accepted.append(json.loads(body)["id"])
            assert accepted, "no booking was accepted with two free slots"
            release(held)
            held = fill_slots(cluster.url)
            worker = WorkerProcess(stack.settings, tmp_path / "worker.log").start(threads=4)
            try:
                wait_until(
                    lambda: "too many clients" in worker.tail(200_000),
                    timeout=60,
                    what="the worker meeting a full server",
                )
            finally:
                release(held)

            # Then, once the server has room, every accepted booking is applied
            try:

                def applied() -> bool:
                    with stack.db() as session:
                        done = session.scalar(
                            select(func.count())
                            .select_from(Job)
                            .where(Job.id.in_(accepted), Job.status == "succeeded")
                        )
                    return done == len(accepted)

                wait_until(
                    applied,
                    timeout=120,
                    what="every accepted booking applied",
                    every=0.5,
                    meanwhile=lambda: recovery_tick(stack.settings),
                )
            finally:
                log = worker.tail()
                worker.stop()
            with stack.db() as session:
                statuses = session.scalars(select(Job.status).where(Job.id.in_(accepted))).all()
                enrolled = session.scalar(select(func.count()).select_from(Enrollment))
            assert set(statuses) == {"succeeded"}, log
            assert enrolled == len(accepted)
        finally:
            release(held)


def test_a_restarted_server_costs_no_request(
    monkeypatch: pytest.MonkeyPatch, cluster: PrivateCluster, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    # Given an API whose pool holds connections to the server
    with live_api(
        monkeypatch,
        database_url=cluster.url,
        smtp_url=smtp_sink.url,
        var_dir=str(tmp_path / "var"),
        database_connect_timeout_seconds="2",
    ) as stack:
        key = stack.key()
        published_event(stack, key, ref="kept")
        assert stack.client.get("/v1/events/kept", headers=stack.auth(key)).status_code == 200

        # When the server restarts, closing every session
        cluster.stop()
        cluster.start(max_connections=MAX_CONNECTIONS, superuser_reserved_connections=0)

        # Then the very first request after it is answered, and the ones after it
        for path in ("/v1/events/kept", "/v1/events", "/v1/events/kept"):
            response = stack.client.get(path, headers=stack.auth(key))
            assert response.status_code == 200, (path, response.text[:300])
