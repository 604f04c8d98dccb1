"""Migrations apply on SQLite and PostgreSQL, match the models, and downgrade."""

from __future__ import annotations

import uuid
import warnings
from datetime import UTC, datetime
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import (
    JSON,
    Integer,
    String,
    Uuid,
    column,
    create_engine,
    insert,
    inspect,
    select,
    table,
    text,
)

from rollcall.models import Base, EmailMessage, Job, Organisation, OutboxMessage, migrate
from rollcall.models.base import UTCDateTime
from rollcall.models.db import normalise_url
from tests.support.services import reset_postgres

#: Indexes of PostgreSQL alone (models.events: the catalogue's full-text index);
#: SQLite's autogenerate cannot reflect them and says so.
POSTGRES_ONLY_INDEXES = ("ix_events_search",)


def assert_models_match(url: str) -> None:
    engine = create_engine(normalise_url(url))
    with engine.connect() as conn, warnings.catch_warnings():
        for name in POSTGRES_ONLY_INDEXES:
            warnings.filterwarnings(
                "ignore", message=f".*expression-based index '{name}'; dialect 'sqlite'"
            )
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == [], f"models and migrations differ: {diff}"


def test_sqlite_upgrade_matches_models_and_downgrades(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    migrate.upgrade(url)
    assert_models_match(url)
    migrate.downgrade(url, "base")
    engine = create_engine(url)
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    engine.dispose()


def test_postgres_upgrade_matches_models_and_downgrades(postgres_database: str) -> None:
    try:
        assert_models_match(postgres_database)
        migrate.downgrade(postgres_database, "base")
        engine = create_engine(normalise_url(postgres_database))
        assert set(inspect(engine).get_table_names()) == {"alembic_version"}
        engine.dispose()
    finally:
        reset_postgres(postgres_database)


def check_outbox_backfill(url: str) -> None:
    """0070 marks sent rows done, but keeps the visibly unfinished ones pending
    (a job queued or running, a mail queued), so the reconciler checks those."""
    migrate.upgrade(url, "0060")
    engine = create_engine(normalise_url(url))
    now = datetime(2026, 11, 1, tzinfo=UTC)
    org = uuid.uuid4()
    jobs = {status: uuid.uuid4() for status in ("queued", "running", "succeeded")}
    mails = {state: uuid.uuid4() for state in ("queued", "sent")}
    outbox: dict[str, uuid.UUID] = {}
    # (the outbox as it was at 0060: the model has done_at already)
    old_outbox = table(
        "outbox",
        column("id", Uuid),
        column("actor", String),
        column("args", JSON),
        column("created_at", UTCDateTime()),
        column("sent_at", UTCDateTime()),
        column("attempts", Integer),
    )
    with engine.begin() as conn:
        conn.execute(insert(Organisation.__table__), {"id": org, "name": "o", "created_at": now})
        for status, job_id in jobs.items():
            conn.execute(
                insert(Job.__table__),
                {
                    "id": job_id, "organisation_id": org, "type": "enroll", "status": status,
                    "payload": {}, "progress_done": 0, "progress_total": 1, "errors": [],
                    "attempts": 0, "created_at": now,
                },
            )  # fmt: skip
        for state, mail_id in mails.items():
            conn.execute(
                insert(EmailMessage.__table__),
                {
                    "id": mail_id, "organisation_id": org, "template": "t", "to_address": "a@b.c",
                    "to_name": "", "context": {}, "state": state, "attempts": 0, "created_at": now,
                },
            )  # fmt: skip
        rows = [(f"job {s}", "process_job", [str(i)], now) for s, i in jobs.items()]
        rows += [(f"mail {s}", "send_email", [str(i)], now) for s, i in mails.items()]
        rows += [("calendar", "rebuild_calendar", [], now), ("unsent", "process_job", ["x"], None)]
        for name, actor, args, sent_at in rows:
            outbox[name] = uuid.uuid4()
            conn.execute(
                insert(old_outbox),
                {
                    "id": outbox[name], "actor": actor, "args": args, "created_at": now,
                    "sent_at": sent_at, "attempts": 1,
                },
            )  # fmt: skip
    migrate.upgrade(url)
    with engine.connect() as conn:
        done = {
            row.id: row.done_at is not None
            for row in conn.execute(select(OutboxMessage.id, OutboxMessage.done_at))
        }
    engine.dispose()
    pending = {name for name, row_id in outbox.items() if not done[row_id]}
    assert pending == {"job queued", "job running", "mail queued", "unsent"}


def test_sqlite_outbox_backfill(tmp_path: Path) -> None:
    check_outbox_backfill(f"sqlite:///{tmp_path / 'b.db'}")


def test_postgres_outbox_backfill(postgres_database: str) -> None:
    engine = create_engine(normalise_url(postgres_database))
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    try:
        check_outbox_backfill(postgres_database)
    finally:
        reset_postgres(postgres_database)
