"""Nothing accepted is lost: with Redis down the intake still answers 202, and the
scheduler's outbox relay delivers the job once Redis is back."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from rollcall.domain.clock import utcnow
from rollcall.messaging.outbox import relay
from rollcall.models import Enrollment, OutboxMessage
from tests.support.factories import job, published_event
from tests.support.faults import LiveStack, PrivateRedis
from tests.support.services import SmtpSink


def test_job_accepted_while_redis_is_down_is_relayed_later(
    live: LiveStack, private_redis: PrivateRedis, smtp_sink: SmtpSink
) -> None:
    # (no short recovery settings: the test relays by hand)
    with live(redis_url=private_redis.url, recovery=False) as stack:
        key = stack.key()
        published_event(stack, key, ref="outage")

        # Given Redis is down
        private_redis.stop()

        # When an enrollment is posted, the caller still gets 202 and the job is recorded
        response = stack.client.post(
            "/v1/events/outage/enrollments",
            json={"attendee": {"ref": "ada", "email": "ada@example.org"}},
            headers=stack.auth(key),
        )
        assert response.status_code == 202, response.text
        job_id = response.json()["id"]
        with stack.db() as session:
            assert session.scalars(select(OutboxMessage.sent_at)).all() == [None]

        # Then, once Redis is back, the relay sends it and a worker applies it once
        private_redis.start()
        # (as of a moment past the relay's grace period)
        relayed = relay(
            stack.sessions,
            stack.broker,
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
