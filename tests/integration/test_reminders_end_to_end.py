"""Reminders and mail delivery on real parts: PostgreSQL, Redis, the SMTP sink,
Dramatiq workers and real `rollcall scheduler` processes. Time is injected
where the test drives the tick; the scheduler processes use the real clock and
an event whose reminder moment has just passed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis

from rollcall.domain.clock import utcnow
from rollcall.scheduler.reminder_producers import produce_reminders
from tests.support.factories import create_event, enroll, published_event
from tests.support.reminders import mails, runs, seed_enrollments
from tests.support.stack import Stack
from tests.support.waiting import wait_until

START = datetime(2027, 3, 2, 9, 0, tzinfo=UTC)
MOMENT = START - timedelta(minutes=1440)


def reminder_event(stack: Stack, key: str, ref: str, start: datetime = START) -> dict[str, Any]:
    return published_event(
        stack,
        key,
        ref=ref,
        starts_at=start.isoformat(),
        ends_at=(start + timedelta(hours=2)).isoformat(),
        reminder_before_minutes=1440 if start == START else 31,
    )


def addresses(stack: Stack) -> list[str]:
    return sorted(m["To"].addresses[0].addr_spec for m in stack.sink.messages)


def test_451_then_accepted_arrives_once(real_stack: Stack) -> None:
    # Given a sink that answers the first DATA with 451, and quick backoff
    real_stack.settings.mail_retry_base_ms = 200
    real_stack.sink.replies.append("451 4.3.0 try again later")
    key = real_stack.key()
    event = reminder_event(real_stack, key, "tempfail")
    with real_stack.db() as session:
        seed_enrollments(session, event["id"], [("ada", "Ada", "enrolled", MOMENT, "event")])

    # When the reminder run goes out
    assert produce_reminders(real_stack.settings, now=MOMENT) == 1
    real_stack.sink.wait_for(1)
    real_stack.drain()

    # Then the mail arrived exactly once, after two attempts, and is sent
    assert addresses(real_stack) == ["ada@example.org"]
    with real_stack.db() as session:
        (row,) = mails(session)
        assert (row.state, row.attempts) == ("sent", 2)
        assert runs(session)[0].state == "done"


def test_550_is_failed_visible_and_not_retried(real_stack: Stack) -> None:
    # Given a sink that refuses the first message for good
    real_stack.settings.mail_retry_base_ms = 200
    real_stack.sink.replies.append("550 5.1.1 mailbox unavailable")
    key = real_stack.key()
    event = reminder_event(real_stack, key, "permfail")
    with real_stack.db() as session:
        seed_enrollments(session, event["id"], [("ada", "Ada", "enrolled", MOMENT, "event")])

    # When the reminder run goes out
    produce_reminders(real_stack.settings, now=MOMENT)
    real_stack.drain()
    # ...and no retry of it waits in the broker's delayed queue
    assert delayed_mail(real_stack) == 0

    # Then nothing arrived, the mail is failed with the server's reply, one attempt
    assert real_stack.sink.messages == []
    listed = real_stack.client.get("/v1/emails?status=failed", headers=real_stack.auth(key))
    (item,) = listed.json()["items"]
    assert item["attempts"] == 1
    assert item["last_error"].startswith("550 5.1.1 mailbox unavailable")
    assert item["to_address"] == "ada@example.org"


def test_two_ticks_at_once_record_one_run(real_stack: Stack) -> None:
    # Given an event due at the moment with three people enrolled
    key = real_stack.key()
    event = reminder_event(real_stack, key, "race")
    with real_stack.db() as session:
        seed_enrollments(
            session, event["id"], [(p, p.title(), "enrolled", MOMENT, "event") for p in "abc"]
        )

    # When four scheduler ticks race at the same instant on PostgreSQL
    barrier = threading.Barrier(4)
    recorded: list[int] = []

    def tick() -> None:
        barrier.wait()
        recorded.append(produce_reminders(real_stack.settings, now=MOMENT))

    threads = [threading.Thread(target=tick) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    real_stack.sink.wait_for(3)
    real_stack.drain()

    # Then exactly one run was recorded and each person got one mail
    assert sorted(recorded) == [0, 0, 0, 1]
    with real_stack.db() as session:
        assert len(runs(session)) == 1
    assert addresses(real_stack) == ["a@example.org", "b@example.org", "c@example.org"]


# Two real scheduler processes --------------------------------------------------


def scheduler_process(stack: Stack, log: Path) -> subprocess.Popen[bytes]:
    env = os.environ | {
        "DATABASE_URL": stack.settings.database_url,
        "REDIS_URL": stack.settings.redis_url,
        "REDIS_NAMESPACE": stack.settings.redis_namespace,
        "SMTP_URL": stack.settings.smtp_url,
        "SCHEDULER_LEADER_TTL_SECONDS": "2",
        "LOG_JSON": "false",
    }
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "rollcall", "scheduler"], env=env, stdout=out, stderr=out
        )


def leader_pid(stack: Stack) -> int | None:
    client = redis.Redis.from_url(stack.settings.redis_url)
    try:
        value = client.get(f"{stack.settings.redis_namespace}:scheduler:leader")
    finally:
        client.close()
    return int(value.decode().split(":")[1]) if value else None


@pytest.fixture
def schedulers(real_stack: Stack, tmp_path: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    processes: list[subprocess.Popen[bytes]] = []
    yield processes
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def test_two_schedulers_one_leads_standby_takes_over_after_a_kill(
    real_stack: Stack, schedulers: list[subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    # Given an event whose "before" reminder moment passed a minute ago
    key = real_stack.key()
    now = utcnow()
    first = reminder_event(real_stack, key, "first", start=now + timedelta(minutes=30))
    with real_stack.db() as session:
        seed_enrollments(
            session,
            first["id"],
            [(p, p.title(), "enrolled", now - timedelta(days=1), "event") for p in ("ada", "bob")],
        )
    log = tmp_path / "schedulers.log"

    # When two scheduler processes run at once
    schedulers.append(scheduler_process(real_stack, log))
    schedulers.append(scheduler_process(real_stack, log))
    wait_until(lambda: leader_pid(real_stack) is not None, timeout=30, what="a leader", log=log)
    real_stack.sink.wait_for(2, timeout=30)
    real_stack.drain()

    # Then one leads, the reminder run is recorded once, each person mailed once
    leader = leader_pid(real_stack)
    pids = {p.pid for p in schedulers}
    assert leader in pids
    with real_stack.db() as session:
        assert len(runs(session)) == 1
    assert addresses(real_stack) == ["ada@example.org", "bob@example.org"]

    # Given a second event, due now too, still a draft (nobody produces for it)
    now = utcnow()
    second = create_event(
        real_stack,
        key,
        ref="second",
        starts_at=(now + timedelta(minutes=30)).isoformat(),
        ends_at=(now + timedelta(minutes=90)).isoformat(),
        reminder_before_minutes=31,
    )
    with real_stack.db() as session:
        seed_enrollments(
            session, second["id"], [("cat", "Cat", "enrolled", now - timedelta(days=1), "event")]
        )

    # When the leader is killed (no chance to release its lock), the second
    # event published while nobody leads, and the killed scheduler restarted
    killed = next(p for p in schedulers if p.pid == leader)
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=10)
    started = time.monotonic()
    published = real_stack.client.post("/v1/events/second/publish", headers=real_stack.auth(key))
    assert published.status_code == 200
    (standby,) = pids - {leader}
    wait_until(
        lambda: leader_pid(real_stack) == standby, timeout=60, what="the standby leading", log=log
    )
    took_over_in = time.monotonic() - started
    schedulers.append(scheduler_process(real_stack, log))  # the restarted one stands by

    # Then the standby took over within a minute and produced at once: the
    # second reminder went out, and the first was not recorded or sent again
    assert took_over_in < 60
    real_stack.sink.wait_for(3, timeout=60)
    real_stack.drain()
    with real_stack.db() as session:
        assert sorted(run.state for run in runs(session)) == ["done", "done"]
    assert addresses(real_stack) == ["ada@example.org", "bob@example.org", "cat@example.org"]
    assert leader_pid(real_stack) == standby


def test_a_confirmation_refused_with_451_is_retried_with_backoff_and_arrives_once(
    real_stack: Stack,
) -> None:
    # Given a sink that answers the first DATA with 451 (one send_email per mail)
    real_stack.settings.mail_retry_base_ms = 100
    real_stack.sink.replies.append("451 4.7.1 greylisted")
    key = real_stack.key()
    published_event(real_stack, key, ref="confirm")

    # When an attendee is enrolled
    enroll(real_stack, key, "confirm", "ada")
    real_stack.sink.wait_for(1)
    real_stack.drain()

    # Then the confirmation arrived once, on the second attempt
    assert addresses(real_stack) == ["ada@example.org"]
    with real_stack.db() as session:
        (row,) = mails(session)
        assert (row.template, row.state, row.attempts) == ("enrollment_confirmed", "sent", 2)
        assert row.last_error is None


def test_reminder_at_the_minute_boundary_escapes_a_script_name(real_stack: Stack) -> None:
    # Given people enrolled before and after the moment, one named <script>
    key = real_stack.key()
    event = reminder_event(real_stack, key, "boundary")
    with real_stack.db() as session:
        seed_enrollments(
            session,
            event["id"],
            [
                ("ada", "<script>alert('x')</script>", "enrolled", MOMENT, "event"),
                ("bob", "Bob", "enrolled", MOMENT + timedelta(microseconds=1), "event"),
                ("cat", "Cat", "waitlisted", None, "event"),
            ],
        )

    # When the scheduler ticks at 08:59:59.999999 and at 09:00:00 UTC
    assert produce_reminders(real_stack.settings, now=MOMENT - timedelta(microseconds=1)) == 0
    assert produce_reminders(real_stack.settings, now=MOMENT) == 1
    assert produce_reminders(real_stack.settings, now=MOMENT + timedelta(seconds=59)) == 0
    real_stack.sink.wait_for(1)
    real_stack.drain()

    # Then only the person enrolled at the moment got it, once, escaped in HTML
    assert addresses(real_stack) == ["ada@example.org"]
    (mail,) = real_stack.sink.messages
    html = mail.get_body(preferencelist=("html",)).get_content()
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "<script>" not in html
    # Babel's English (CLDR puts a narrow no-break space before AM): the
    # event's zone (the attendee has none), named in full
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert "10:00\u202fAM Central European Standard Time" in text


def delayed_mail(stack: Stack) -> int:
    """Messages waiting in the mail queue's delay queue (a scheduled retry)."""
    client = redis.Redis.from_url(stack.settings.redis_url)
    try:
        return int(client.hlen(f"{stack.settings.redis_namespace}:mail.DQ.msgs"))
    finally:
        client.close()
