"""What the one statement writes (domain.jobs.one_statement): the job the ORM
writes (engine.submit_job), column for column, with the same outbox row, both
handed over as written; and the line's stamp read by the database."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import Table, delete, func, select
from sqlalchemy.orm import Session

from rollcall.domain.clock import utcnow
from rollcall.domain.jobs.engine import queued_job, submit_job
from rollcall.domain.jobs.one_statement import submit_job_in_one_statement
from rollcall.domain.jobs.outbox import take_written
from rollcall.models import Job, OutboxMessage
from rollcall.models.db import sessions_for, transaction
from tests.support.enroll_groups import new_event

JOBS: Table = Job.__table__  # type: ignore[assignment]
OUTBOX: Table = OutboxMessage.__table__  # type: ignore[assignment]


def _stored(session: Session, job_id: uuid.UUID) -> tuple[dict[str, Any], dict[str, Any]]:
    """The job's row and its outbox row as stored, every column."""
    job = dict(session.execute(select(JOBS).where(JOBS.c.id == job_id)).one()._mapping)
    messages = session.execute(select(OUTBOX)).all()
    (message,) = [dict(m._mapping) for m in messages if m.args == [str(job_id)]]
    return job, message


def test_the_one_statement_writes_what_the_orm_writes(postgres_url: str) -> None:
    # Given an event and a job's fields, every column given a value
    db = sessions_for(postgres_url)
    org, event = new_event(db, seats=5)
    fields: dict[str, Any] = {
        "organisation_id": org,
        "type": "enroll",
        "payload": {"event_id": str(event), "attendee": {"ref": "ada", "name": None}},
        "idempotency_key": "same-input",
        "event_id": event,
        "progress_total": 1,
        "request_id": "req-1",
        "created_by_key_id": uuid.uuid4(),
        "created_by_token_id": uuid.uuid4(),
    }
    now = utcnow().replace(microsecond=123456)

    # When the ORM records it, and then (its rows gone) the one statement
    with transaction(db) as session:
        by_orm, created = submit_job(session, now=now, **fields)
        assert created
        orm_written = take_written(session)
    with transaction(db) as session:
        orm_job, orm_message = _stored(session, by_orm.id)
        session.execute(delete(OUTBOX))
        session.execute(delete(JOBS).where(JOBS.c.id == by_orm.id))
    with transaction(db) as session:
        by_statement, created = submit_job_in_one_statement(
            session, queued_job(**fields), stamp=now
        )
        assert created
        statement_written = take_written(session)
    with transaction(db) as session:
        statement_job, statement_message = _stored(session, by_statement.id)

    # Then both wrote the same job, every column alike but its id
    assert set(orm_job) == {c.name for c in JOBS.columns}
    assert {k: v for k, v in statement_job.items() if k != "id"} == {
        k: v for k, v in orm_job.items() if k != "id"
    }
    # And the same outbox row, naming its own job
    assert orm_message["args"] == [str(by_orm.id)]
    assert statement_message["args"] == [str(by_statement.id)]
    assert {k: v for k, v in statement_message.items() if k not in ("id", "args")} == {
        k: v for k, v in orm_message.items() if k not in ("id", "args")
    }
    # And each handed over the row it wrote, as written
    assert [(w.id, w.actor, w.args) for w in statement_written] == [
        (statement_message["id"], statement_message["actor"], statement_message["args"])
    ]
    assert [(w.id, w.actor, w.args) for w in orm_written] == [
        (orm_message["id"], orm_message["actor"], orm_message["args"])
    ]
    # And the job the statement answers with is the stored row
    assert {c.name: getattr(by_statement, c.name) for c in JOBS.columns} == statement_job


def test_a_line_stamp_is_the_database_clock_read_in_the_statement(postgres_url: str) -> None:
    # Given an event
    db = sessions_for(postgres_url)
    org, event = new_event(db, seats=5)

    # When a job of it is recorded with the line's stamp
    with transaction(db) as session:
        before = session.scalar(select(func.clock_timestamp()))
        row = queued_job(
            organisation_id=org, type="enroll", payload={"event_id": str(event)}, event_id=event
        )
        job, _created = submit_job_in_one_statement(session, row, stamp=None)
        after = session.scalar(select(func.clock_timestamp()))

    # Then its stamp was read by the database between the two, and is the stored one
    assert before is not None and after is not None
    assert before <= job.created_at <= after
    assert after - before < timedelta(minutes=1)
    with transaction(db) as session:
        assert session.scalar(select(Job.created_at).where(Job.id == job.id)) == job.created_at
