"""A before-reminder refused until its occurrence has started is never sent
after the start (issue 14 #2), on real parts: PostgreSQL, Redis, the SMTP
sink and a `dramatiq` worker process on the real clock; the test process
plays the scheduler."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from rollcall.domain.clock import utcnow
from rollcall.models import EmailMessage
from rollcall.scheduler.reminder_producers import produce_reminders
from tests.support.faults import LiveStack, WorkerProcess
from tests.support.ops import labels, metrics
from tests.support.reminders import mails, reminded_event, runs
from tests.support.services import RedisServer, SmtpSink
from tests.support.stack import Stack
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

#: Until the start, the worker's send_email retries quickly, without giving up.
RETRIES = {"MAIL_RETRY_BASE_MS": "200", "MAIL_RETRY_MAX_MS": "800", "MAIL_MAX_ATTEMPTS": "1000"}


def test_a_reminder_retried_past_the_start_expires_and_is_never_sent(
    live: LiveStack, redis_server: RedisServer, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    with live(redis_url=redis_server.url) as stack:
        # Given an event starting in 20 seconds with a reminder a minute before
        # (due already), two people enrolled, and a server that refuses with 451
        key = stack.key(operator=True)
        start = (utcnow() + timedelta(seconds=20)).replace(microsecond=0)
        reminded_event(
            stack,
            key,
            ref="soon",
            starts_at=start,
            hours=1,
            before_minutes=1,
            people=[(p, p.title()) for p in ("ada", "bob")],
            enrolled_at=utcnow() - timedelta(days=1),
        )
        smtp_sink.replies.extend(["451 4.3.0 try again later"] * 10_000)
        worker = WorkerProcess(stack.settings, tmp_path / "worker.log", **RETRIES).start()
        try:
            # When the run is written and tried before the start, and retried past it
            assert produce_reminders(stack.settings, now=utcnow()) == 1
            wait_until(
                lambda: (
                    len(mails_of(stack)) == 2 and all(row.attempts >= 1 for row in mails_of(stack))
                ),
                timeout=30,
                what="both mails tried before the start",
                log=worker.tail,
            )
            assert utcnow() < start, "the machine was too slow to try them before the start"
            wait_until(lambda: utcnow() > start, timeout=30, what="the occurrence's start")
            smtp_sink.replies.clear()  # the server would take them now
            wait_until(
                lambda: {row.state for row in mails_of(stack)} <= {"sent", "expired", "failed"},
                timeout=60,
                what="both mails settled",
                log=worker.tail,
            )
        finally:
            worker.stop()

        # Then neither was sent: both ended expired, with their reason
        assert smtp_sink.messages == [], worker.tail()
        with stack.db() as session:
            rows = mails(session)
            assert [row.state for row in rows] == ["expired", "expired"]
            assert all(row.not_after == start for row in rows)
            assert all("deadline" in (row.last_error or "") for row in rows)
            assert runs(session)[0].state == "done"
        # And operators see them counted
        assert metrics(stack, key)["rollcall_mail"][labels(state="expired")] == 2


def mails_of(stack: Stack) -> list[EmailMessage]:
    with stack.db() as session:
        rows = mails(session)
        session.expunge_all()
    return rows
