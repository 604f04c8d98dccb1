"""The worker's first reads of a message's job are one round trip each on
PostgreSQL (models.db.single_statement, issue 19): no BEGIN before them, no
ROLLBACK after. The share-lock probe still waits for a group holding the job."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, select, text, update
from sqlalchemy.engine import Engine

from rollcall.domain.access.keys import get_or_create_organisation
from rollcall.domain.clock import utcnow
from rollcall.domain.enrollment.group_line import probe_own
from rollcall.domain.jobs.engine import apply_job, submit_job
from rollcall.models import Job
from rollcall.models.db import sessions_for, transaction
from tests.support.waiting import wait_until


def _job(url: str, status: str) -> uuid.UUID:
    with transaction(sessions_for(url)) as session:
        org = get_or_create_organisation(session, name="acme", now=utcnow())
        job, _created = submit_job(
            session, organisation_id=org.id, type="enroll", payload={}, now=utcnow()
        )
        job.status = status
        return job.id


@contextmanager
def job_reads() -> Iterator[list[bool]]:
    """For each statement reading the jobs table meanwhile: whether it ran in
    autocommit (its own one-statement transaction)."""
    seen: list[bool] = []

    def note(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        flat = " ".join(statement.split()).lower()
        if flat.startswith("select") and " from jobs" in flat:
            seen.append(bool(conn.connection.dbapi_connection.autocommit))

    event.listen(Engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", note)


def test_a_message_for_a_finished_job_costs_one_autocommit_read(postgres_url: str) -> None:
    # Given a job already finished (say, by a group in another process)
    job_id = _job(postgres_url, "succeeded")

    # When its message is applied
    with job_reads() as autocommit:
        outbox = apply_job(sessions_for(postgres_url), job_id, now=utcnow)

    # Then nothing happened, after one read outside any transaction
    assert outbox == []
    assert autocommit == [True]


def _waiting_for_a_row_lock(factory: Any) -> int:
    """Backends waiting for a lock in a FOR SHARE read; in a session of its
    own each time (pg_stat_activity is a snapshot per transaction)."""
    with factory() as session:
        return int(
            session.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE wait_event_type = 'Lock' AND query ILIKE '%FOR SHARE%'"
                )
            )
        )


def test_the_probe_runs_alone_and_still_waits_for_the_jobs_holder(postgres_url: str) -> None:
    # Given a job whose row a group holds while it applies it
    job_id = _job(postgres_url, "queued")
    factory = sessions_for(postgres_url)
    holder = factory()
    holder.execute(select(Job.id).where(Job.id == job_id).with_for_update())
    holder.execute(update(Job).where(Job.id == job_id).values(status="succeeded"))

    # When a worker probes the job meanwhile
    probed: list[Any] = []
    try:
        with job_reads() as autocommit:
            worker = threading.Thread(target=lambda: probed.append(probe_own(factory, job_id)))
            worker.start()
            wait_until(
                lambda: _waiting_for_a_row_lock(factory),
                timeout=30,
                what="the probe to wait for the job's lock",
            )
            # Then it waits for the group, and sees the job done once the group commits
            holder.commit()
            worker.join(timeout=30)
    finally:
        holder.close()
    assert [own.status for own in probed] == ["succeeded"]
    assert autocommit == [True]
