"""Redis loses everything it held: killed, and started again empty on the same
port (no persistence, or a failover to a replica that lagged). Every job
accepted before, during and after succeeds once, and every mail arrives once:
the outbox rows that commit with the work are sent again by the scheduler's
reconciler once the broker no longer holds their messages.

Real parts: PostgreSQL, a private redis-server, the SMTP sink, the API over
HTTP and `dramatiq` worker processes. The test process plays the scheduler
(``recovery_tick``: the relay, the reconciler, the stalled-mail producer).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from rollcall.messaging.queue_inspect import inspector_for
from rollcall.models import EmailMessage, Enrollment, Job, OutboxMessage
from tests.support.factories import published_event
from tests.support.faults import (
    LiveStack,
    PrivateRedis,
    WorkerProcess,
    settled,
    succeeded_jobs,
    wait_recovered,
)
from tests.support.stack import Stack
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]


def post_enrollments(
    stack: Stack, key: str, refs: range, *, events: int, first_event: int = 0
) -> list[str]:
    """Enroll one attendee per ref, spread over ``events`` events from
    ``first_event`` on; the accepted job ids."""
    accepted = []
    for n in refs:
        response = stack.client.post(
            f"/v1/events/e{first_event + n % events}/enrollments",
            json={"attendee": {"ref": f"p{n}", "email": f"p{n}@example.org"}},
            headers=stack.auth(key),
        )
        assert response.status_code == 202, response.text
        accepted.append(response.json()["id"])
    return accepted


def resent_by_reconciler(stack: Stack) -> int:
    """Rows sent more than once: the intake's send (or the relay's), then the reconciler's."""
    with stack.db() as session:
        return int(
            session.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.attempts > 1)
            )
            or 0
        )


def all_done(stack: Stack, people: int) -> bool:
    """Every job applied and everything settled: nothing left for anybody to do."""
    return succeeded_jobs(stack) >= people and settled(stack, people)


def assert_each_applied_and_mailed_once(stack: Stack, accepted: list[str], people: int) -> None:
    with stack.db() as session:
        statuses = dict(
            session.execute(select(Job.id, Job.status).where(Job.type == "enroll")).all()
        )
        assert sorted(statuses.values()) == ["succeeded"] * len(accepted)
        assert {str(job_id) for job_id in statuses} == set(accepted)
        assert session.scalar(select(func.count()).select_from(Enrollment)) == people
        mail_states = session.scalars(select(EmailMessage.state)).all()
        assert sorted(mail_states) == ["sent"] * people
    counts = stack.sink.per_recipient()
    assert sorted(counts) == sorted(f"p{n}@example.org" for n in range(people))
    assert set(counts.values()) == {1}, {a: c for a, c in counts.items() if c != 1}


def test_redis_restarted_empty_during_intake_loses_no_job_and_no_mail(
    live: LiveStack,
    private_redis: PrivateRedis,
    tmp_path: Path,
) -> None:
    with live(redis_url=private_redis.url) as stack:
        key = stack.key()
        for n in range(60):
            published_event(stack, key, ref=f"e{n}")
        worker = WorkerProcess(stack.settings, tmp_path / "worker.log")
        try:
            # Given 90 jobs accepted into 30 events, and a worker that has begun on them
            accepted = post_enrollments(stack, key, range(0, 90), events=30)
            worker.start()
            wait_until(lambda: succeeded_jobs(stack) > 0, timeout=60, what="the first job applied")

            # When Redis is killed with their messages on its queues, intake goes
            # on while it is down (into other events, so that no later message
            # of the same event happens to apply the lost ones), and Redis comes
            # back empty
            private_redis.kill()
            accepted += post_enrollments(stack, key, range(90, 150), events=30, first_event=30)
            private_redis.start()
            accepted += post_enrollments(stack, key, range(150, 240), events=30, first_event=30)

            # Then, with the scheduler ticking, every job succeeds and every mail arrives
            wait_recovered(
                stack,
                lambda: all_done(stack, 240),
                timeout=180,
                what="240 jobs applied and mailed",
                every=0.2,
            )
        finally:
            worker.stop()
        assert resent_by_reconciler(stack) > 0, "Redis must have lost work to prove anything"
        # And once: one enrollment per job, one mail per person
        assert_each_applied_and_mailed_once(stack, accepted, 240)


def test_placement_mails_survive_redis_restarted_empty(
    live: LiveStack,
    private_redis: PrivateRedis,
    tmp_path: Path,
) -> None:
    events, people = 4, 200
    with live(redis_url=private_redis.url) as stack:
        key = stack.key()
        for n in range(events):
            published_event(stack, key, ref=f"e{n}")
        # Given every enrollment placed by a worker that takes no mail work, so
        # the placements' mail messages wait in Redis
        jobs_only = WorkerProcess(stack.settings, tmp_path / "worker.log").start(queues=("jobs",))
        try:
            accepted = post_enrollments(stack, key, range(people), events=events)
            wait_until(lambda: succeeded_jobs(stack) == people, timeout=120, what="every placement")
        finally:
            jobs_only.stop()
        inspector = inspector_for(stack.settings.redis_url, stack.settings.redis_namespace)
        assert inspector is not None
        (mail_queue,) = inspector.depths(("mail",))
        assert mail_queue.ready > 0
        with stack.db() as session:
            # (their mails are written by the mail worker, from the message)
            assert session.scalar(select(func.count()).select_from(EmailMessage)) == 0

        # When Redis loses them all, and a full worker starts
        private_redis.kill()
        private_redis.start()
        worker = WorkerProcess(stack.settings, tmp_path / "worker.log").start()
        try:
            # Then every placement's mail arrives, once
            wait_recovered(
                stack,
                lambda: all_done(stack, people),
                timeout=120,
                what=f"{people} placement mails",
                every=0.2,
            )
        finally:
            worker.stop()
        assert_each_applied_and_mailed_once(stack, accepted, people)
