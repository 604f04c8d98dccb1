"""Worker processes killed with SIGKILL lose nothing and double nothing.

The killed worker's unacknowledged messages come back (Dramatiq's maintenance,
or the scheduler's reconciler once only a dead worker holds them); work it
committed but never handed over goes out through the outbox relay; the mail
it was sending when it died is claimed again once its lease is over. Every
job is applied exactly once. A mail the server accepted in the instant before
the kill, before it was recorded, is the one mail per sender that may arrive
twice (with the same Message-ID); every other mail arrives once.

Real parts: PostgreSQL, Redis, the SMTP sink, the API over HTTP and `dramatiq`
worker processes; the test process plays the scheduler (``recovery_tick``).
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from rollcall.models import EmailMessage, Enrollment, Job, Payment
from rollcall.scheduler.reminder_producers import produce_reminders
from tests.support.factories import published_event
from tests.support.faults import (
    LiveStack,
    WorkerProcess,
    settled,
    succeeded_jobs,
    wait_recovered,
)
from tests.support.reminders import mails, runs, seed_enrollments
from tests.support.services import RedisServer, SmtpSink
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]

JOBS = 2000
EVENTS = 40
THREADS = 4
POSTERS = 4


def doubles(sink: SmtpSink) -> dict[str, list[str]]:
    """Recipients who got more than one message, with those messages' ids."""
    ids: dict[str, list[str]] = {}
    for message in sink.messages:
        ids.setdefault(message["To"].addresses[0].addr_spec, []).append(message["Message-ID"])
    return {address: found for address, found in ids.items() if len(found) > 1}


def assert_mailed_once_but_the_mails_in_doubt(
    sink: SmtpSink, addresses: list[str], in_doubt: int
) -> None:
    counts: Counter[str] = sink.per_recipient()
    assert sorted(counts) == sorted(addresses)
    twice = doubles(sink)
    # A second copy is only ever the mail in doubt sent again: the same message
    assert all(len(set(found)) == 1 and len(found) == 2 for found in twice.values()), twice
    assert len(twice) <= in_doubt, twice


def test_worker_group_sigkilled_twice_in_2000_jobs(
    live: LiveStack, redis_server: RedisServer, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    with live(redis_url=redis_server.url) as stack:
        smtp_sink.delay = 0.002  # a mail takes a moment: the kills land mid-run
        key = stack.key()
        # (over many events: a worker applies one event's queued jobs as one
        # group, so a kill lands in the middle of the work, not between groups)
        for n in range(EVENTS):
            published_event(stack, key, ref=f"crash{n}")

        # Given 2,000 enroll jobs posted (by four clients at once) while a
        # worker works through them
        def intake(first: int) -> None:
            with httpx.Client(base_url=str(stack.client.base_url), timeout=30) as client:
                for n in range(first, JOBS, POSTERS):
                    response = client.post(
                        f"/v1/events/crash{n % EVENTS}/enrollments",
                        json={"attendee": {"ref": f"a{n}", "email": f"a{n}@example.org"}},
                        headers=stack.auth(key),
                    )
                    assert response.status_code == 202, response.text
                    accepted.append(response.json()["id"])

        accepted: list[str] = []
        posters = [threading.Thread(target=intake, args=(n,)) for n in range(POSTERS)]
        worker = WorkerProcess(stack.settings, tmp_path / "worker.log").start(threads=THREADS)
        for poster in posters:
            poster.start()
        try:
            # When the worker's process group is killed twice on the way, each
            # time just as the SMTP server accepted a mail (a sender is mid-way)
            at_kill = []
            for share in (1, 2):
                wait_until(
                    lambda share=share: len(smtp_sink.messages) >= JOBS * share // 5,
                    timeout=120,
                    what=f"{share}/5 of the mails sent",
                    every=0.002,
                )
                worker.kill()
                at_kill.append(succeeded_jobs(stack))
                worker.start(threads=THREADS)
            for poster in posters:
                poster.join()
            assert len(accepted) == JOBS
            assert all(0 < done < JOBS for done in at_kill), at_kill

            # Then, with the scheduler ticking, everything is applied and mailed
            wait_recovered(
                stack,
                lambda: succeeded_jobs(stack) == JOBS and settled(stack, JOBS),
                timeout=240,
                what="every job applied and mailed",
                every=0.25,
            )
        finally:
            worker.stop()
            for poster in posters:
                poster.join(timeout=60)

        # And exactly once: one enrollment, payment and mail row per attendee
        with stack.db() as session:
            assert session.scalar(select(func.count()).select_from(Job)) == JOBS
            assert session.scalar(select(func.count()).select_from(Enrollment)) == JOBS
            assert session.scalar(select(func.count()).select_from(Payment)) == JOBS
            attendees = select(func.count(func.distinct(Enrollment.attendee_id)))
            assert session.scalar(attendees.select_from(Enrollment)) == JOBS
            assert session.scalar(select(func.count()).select_from(EmailMessage)) == JOBS
        # And every mail arrived; a second copy only of a mail in doubt at a kill
        # (at most one per sending thread per kill)
        assert_mailed_once_but_the_mails_in_doubt(
            stack.sink, [f"a{n}@example.org" for n in range(JOBS)], in_doubt=2 * THREADS
        )


START = datetime(2027, 3, 2, 9, 0, tzinfo=UTC)
MOMENT = START - timedelta(minutes=1440)


def test_worker_sigkilled_in_a_reminder_run(
    live: LiveStack, redis_server: RedisServer, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    people = 300
    with live(redis_url=redis_server.url) as stack:
        # Given a reminder run to 300 people over a slow SMTP server
        smtp_sink.delay = 0.005
        key = stack.key()
        event = published_event(
            stack,
            key,
            ref="remind",
            starts_at=START.isoformat(),
            ends_at=(START + timedelta(hours=2)).isoformat(),
            reminder_before_minutes=1440,
        )
        with stack.db() as session:
            seed_enrollments(
                session,
                event["id"],
                [(f"p{i}", f"P {i}", "enrolled", MOMENT, "event") for i in range(people)],
            )
        assert produce_reminders(stack.settings, now=MOMENT) == 1
        worker = WorkerProcess(stack.settings, tmp_path / "worker.log")
        worker.start(threads=1)
        try:
            # When the worker is killed with SIGKILL in the middle of the run
            wait_until(
                lambda: len(smtp_sink.messages) >= 50,
                timeout=60,
                what="the run under way",
                every=0.005,
            )
            worker.kill()
            with stack.db() as session:
                states = Counter(mail.state for mail in mails(session))
            assert 0 < states["sent"] < people, states
            # (only the mail being sent at the kill is claimed and unrecorded)
            assert states["sending"] <= 1, states

            # Then, after the lease, with a new worker and the scheduler ticking,
            # no mail stays "sending" and everybody gets the reminder
            worker.start(threads=1)
            wait_recovered(
                stack,
                lambda: settled(stack, people),
                timeout=120,
                what="every reminder sent",
                every=0.25,
            )
        finally:
            worker.stop()
        with stack.db() as session:
            assert sorted(mail.state for mail in mails(session)) == ["sent"] * people
            assert runs(session)[0].state == "done"
        # And once each, but the mail in doubt at the kill: at most twice
        assert_mailed_once_but_the_mails_in_doubt(
            smtp_sink, [f"p{i}@example.org" for i in range(people)], in_doubt=1
        )
