"""Nothing accepted is lost: with Redis down the intake still answers 202, and the
scheduler's outbox relay delivers the job once Redis is back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from rollcall.domain.clock import utcnow
from rollcall.intake.app import create_app
from rollcall.messaging.outbox import relay
from rollcall.models import Enrollment, OutboxMessage
from rollcall.models.db import sessions_for
from tests.support.factories import job, published_event
from tests.support.faults import PrivateRedis
from tests.support.services import LiveServer, SmtpSink
from tests.support.stack import Stack, bind_broker, configure, unique_namespace


@pytest.fixture
def flaky_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    server.start()
    yield server
    server.stop()


def test_job_accepted_while_redis_is_down_is_relayed_later(
    monkeypatch: pytest.MonkeyPatch,
    postgres_url: str,
    flaky_redis: PrivateRedis,
    smtp_sink: SmtpSink,
    tmp_path: Path,
) -> None:
    settings = configure(
        monkeypatch,
        database_url=postgres_url,
        redis_url=flaky_redis.url,
        redis_namespace=unique_namespace(),
        smtp_url=smtp_sink.url,
        var_dir=str(tmp_path),
    )
    broker = bind_broker(settings)
    with LiveServer(create_app(settings)) as server, httpx.Client(base_url=server.url) as client:
        stack = Stack(settings=settings, broker=broker, client=client, sink=smtp_sink)
        key = stack.key()
        published_event(stack, key, ref="outage")

        # Given Redis is down
        flaky_redis.stop()

        # When an enrollment is posted, the caller still gets 202 and the job is recorded
        response = client.post(
            "/v1/events/outage/enrollments",
            json={"attendee": {"ref": "ada", "email": "ada@example.org"}},
            headers=stack.auth(key),
        )
        assert response.status_code == 202, response.text
        job_id = response.json()["id"]
        with stack.db() as session:
            assert session.scalars(select(OutboxMessage.sent_at)).all() == [None]

        # Then, once Redis is back, the relay sends it and a worker applies it once
        flaky_redis.start()
        # (as of a moment past the relay's grace period)
        relayed = relay(
            sessions_for(settings.database_url),
            broker,
            now=utcnow() + timedelta(seconds=5),
            older_than_seconds=1,
        )
        assert relayed == 1
        stack.start_worker(threads=2)
        try:
            stack.drain()
        finally:
            stack.stop()
        assert job(stack, key, job_id)["status"] == "succeeded"
        with stack.db() as session:
            assert len(session.scalars(select(Enrollment)).all()) == 1
            assert session.scalars(select(OutboxMessage.sent_at)).all().count(None) == 0
        assert len(smtp_sink.wait_for(1)) == 1
    broker.close()
