"""A worker process keeps each thread's SMTP connection between messages
(workers.smtp_keep), and says QUIT on it when it stops. Real parts:
PostgreSQL, Redis, the SMTP sink, the API over HTTP, a `dramatiq` worker
process."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from rollcall.models import EmailMessage
from tests.support.factories import published_event
from tests.support.faults import LiveStack, WorkerProcess
from tests.support.services import RedisServer, SmtpSink
from tests.support.stack import Stack
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def sent(stack: Stack) -> int:
    with stack.db() as session:
        query = select(func.count()).where(EmailMessage.state == "sent")
        return int(session.scalar(query.select_from(EmailMessage)) or 0)


def test_a_worker_thread_mails_one_job_after_another_over_one_connection(
    live: LiveStack, redis_server: RedisServer, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    with live(redis_url=redis_server.url) as stack:
        key = stack.key()
        for n in range(3):
            published_event(stack, key, ref=f"kept{n}")
        worker = WorkerProcess(stack.settings, tmp_path / "worker.log").start(threads=1)
        try:
            # Given three enrollments into three events, each mailed before the next
            for n in range(3):
                response = stack.client.post(
                    f"/v1/events/kept{n}/enrollments",
                    json={"attendee": {"ref": f"k{n}", "email": f"k{n}@example.org"}},
                    headers=stack.auth(key),
                )
                assert response.status_code == 202, response.text
                wait_until(
                    lambda n=n: len(smtp_sink.messages) == n + 1,
                    timeout=60,
                    what=f"confirmation {n + 1}",
                    every=0.02,
                )
            # Then the worker's one thread sent them over one connection, still open
            assert smtp_sink.connections() == 1, worker.tail()
            assert smtp_sink.quits == []
            wait_until(lambda: sent(stack) == 3, timeout=60, what="the mails recorded sent")

            # When the worker is stopped as a supervisor stops it (SIGTERM to
            # the dramatiq main process, which stops its worker process)
            assert worker.process is not None
            worker.process.send_signal(signal.SIGTERM)
            worker.process.wait(timeout=60)
        finally:
            worker.stop()
        # Then it ended that connection with QUIT
        assert smtp_sink.quits == smtp_sink.peers[:1], worker.tail()
        assert sorted(smtp_sink.per_recipient()) == [f"k{n}@example.org" for n in range(3)]
