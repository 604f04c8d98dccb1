"""Enroll jobs recorded as intake records them, straight on a database: the
set-up of the enroll-group tests (tests/component/test_enroll_groups.py,
test_enroll_order.py and their PostgreSQL run), and of the fair-line race."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

import rollcall.domain.enrollment.jobs  # noqa: F401  (registers the enroll runner)
from rollcall.domain.access.keys import get_or_create_organisation
from rollcall.domain.enrollment.bulk import rows as bulk_rows
from rollcall.domain.events.catalog import create_event, publish_event
from rollcall.domain.jobs.engine import apply_job, submit_job
from rollcall.domain.jobs.outbox import take_pending
from rollcall.models import Job
from rollcall.models.db import dispose_all, sessions_for, transaction

T0 = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
STARTS = datetime(2031, 5, 1, 9, 0, tzinfo=UTC)


def database(kind: str) -> Any:
    """The ``db`` fixture of the enroll-group tests, on ``kind`` ("sqlite" or
    "postgres"). The tests are written once, in tests/component/ where ``db`` is
    SQLite; tests/integration/test_enroll_groups_postgres.py collects them again
    with ``db`` on PostgreSQL. The parameter keeps the ids ``[sqlite]``/``[postgres]``."""

    @pytest.fixture(params=[kind])
    def db(request: pytest.FixtureRequest) -> Iterator[sessionmaker[Session]]:
        url = request.getfixturevalue(f"{request.param}_url")
        yield sessions_for(url)
        dispose_all()

    return db


def new_event(db: sessionmaker[Session], seats: int, **fields: Any) -> tuple[uuid.UUID, uuid.UUID]:
    with transaction(db) as session:
        org = get_or_create_organisation(session, name="acme", now=T0)
        event = create_event(
            session,
            organisation_id=org.id,
            fields={
                "name": "Group",
                "max_subscriptions": seats,
                "waiting_list": True,
                "starts_at": STARTS,
                "ends_at": STARTS + timedelta(hours=2),
                **fields,
            },
            now=T0,
        )
        publish_event(session, event=event, now=T0)
        return org.id, event.id


def submit(
    db: sessionmaker[Session],
    org: uuid.UUID,
    event: uuid.UUID,
    refs: list[str],
    *,
    at: datetime = T0,
    **extra: Any,
) -> list[uuid.UUID]:
    """Enroll jobs recorded as intake records them (1 s apart), messages not sent."""
    ids = []
    with transaction(db) as session:
        for i, ref in enumerate(refs):
            job, _ = submit_job(
                session,
                organisation_id=org,
                type="enroll",
                payload={
                    "event_id": str(event),
                    "attendee": {"ref": ref, "email": f"{ref}@example.org", "name": ref.title()},
                    **extra,
                },
                event_id=event,
                progress_total=1,
                now=at + timedelta(seconds=i),
            )
            ids.append(job.id)
        take_pending(session)
    return ids


def jobs(db: sessionmaker[Session], ids: list[uuid.UUID]) -> list[Job]:
    with db() as session:
        found = {job.id: job for job in session.scalars(select(Job).where(Job.id.in_(ids)))}
    return [found[job_id] for job_id in ids]


def crash_on(monkeypatch: pytest.MonkeyPatch, ref: str) -> None:
    """Make applying any group that holds attendee ``ref`` raise ``RuntimeError("boom")``:
    a job that crashes whatever applies it."""
    original = bulk_rows.enroll_rows

    def crashing(session: Session, **kwargs: Any) -> bulk_rows.ChunkOutcome:
        if any(row["ref"] == ref for row in kwargs["rows"]):
            raise RuntimeError("boom")
        return original(session, **kwargs)

    monkeypatch.setattr("rollcall.domain.enrollment.group_outcomes.enroll_rows", crashing)


def crash_in_the_middle(
    db: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
    *,
    seats: int,
    order: tuple[int, int, int],
    now: datetime,
) -> list[uuid.UUID]:
    """Three queued jobs, for ada, bad and cy, bad's crashing whatever applies it
    (``crash_on``); their messages handled in ``order`` (indices into the three),
    bad's own raising ``RuntimeError("boom")``. Returns the job ids in the
    ada, bad, cy order."""
    org, event = new_event(db, seats=seats)
    ids = submit(db, org, event, ["ada", "bad", "cy"])
    crash_on(monkeypatch, "bad")
    for index in order:
        if index == 1:
            with pytest.raises(RuntimeError, match="boom"):
                apply_job(db, ids[index], now=lambda: now)
        else:
            apply_job(db, ids[index], now=lambda: now)
    return ids
