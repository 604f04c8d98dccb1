"""A worker process sends a small group's confirmation from the job thread
that committed it (workers.mail_inline), and a worker kept off the mail queue
leaves every mail to the queue. Real parts: PostgreSQL, Redis, the SMTP sink,
the API over HTTP, `dramatiq` worker processes."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from rollcall.domain.jobs.actor_names import SEND_PLACEMENT_MAILS
from rollcall.models import EmailMessage, OutboxMessage
from tests.support.factories import enroll, published_event
from tests.support.faults import LiveStack, WorkerProcess
from tests.support.services import RedisServer, SmtpSink
from tests.support.stack import Stack
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def placement_row(stack: Stack) -> OutboxMessage | None:
    with stack.db() as session:
        return session.scalars(
            select(OutboxMessage).where(OutboxMessage.actor == SEND_PLACEMENT_MAILS)
        ).one_or_none()


def enqueued(stack: Stack) -> bool:
    row = placement_row(stack)
    return row is not None and row.sent_at is not None


def mail_states(stack: Stack) -> list[str]:
    with stack.db() as session:
        return list(session.scalars(select(EmailMessage.state)))


def test_the_job_thread_sends_the_confirmation_and_no_message_is_queued(
    live: LiveStack, redis_server: RedisServer, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    with live(redis_url=redis_server.url) as stack:
        key = stack.key()
        published_event(stack, key, ref="inline")
        worker = WorkerProcess(stack.settings, tmp_path / "worker.log").start(threads=2)
        try:
            # When an enrollment is posted
            enroll(stack, key, "inline", "ada")

            # Then its confirmation arrives once, and its placement message
            # was marked sent and done in one statement by the process that
            # wrote it: never enqueued (through the queue, ``sent_at`` is the
            # enqueue and ``done_at`` the later ack)
            wait_until(lambda: mail_states(stack) == ["sent"], timeout=60, what="the mail sent")
            row = placement_row(stack)
            assert row is not None and row.done_at is not None and row.sent_at == row.done_at, (
                worker.tail()
            )
        finally:
            worker.stop()
        assert smtp_sink.per_recipient() == {"ada@example.org": 1}


def test_a_worker_kept_off_the_mail_queue_leaves_the_mail_to_it(
    live: LiveStack, redis_server: RedisServer, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    with live(redis_url=redis_server.url) as stack:
        key = stack.key()
        published_event(stack, key, ref="inline")
        jobs_only = WorkerProcess(stack.settings, tmp_path / "jobs.log").start(queues=("jobs",))
        try:
            # When a worker of the jobs queue alone applies the enrollment
            enroll(stack, key, "inline", "ada")
            wait_until(
                lambda: enqueued(stack),
                timeout=60,
                what="the placement message enqueued",
            )

            # Then no mail is written nor sent: the message waits in the mail queue
            assert mail_states(stack) == [] and smtp_sink.messages == []
        finally:
            jobs_only.stop()

        # And a mail worker sends it, once
        mail = WorkerProcess(stack.settings, tmp_path / "mail.log").start(queues=("mail",))
        try:
            wait_until(lambda: mail_states(stack) == ["sent"], timeout=60, what="the mail sent")
        finally:
            mail.stop()
        assert smtp_sink.per_recipient() == {"ada@example.org": 1}
