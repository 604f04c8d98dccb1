"""Outbox rows for the reconciler's tests, on SQLite (component) and with a
real Redis broker (integration): sent ten minutes ago unless told otherwise."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from rollcall.models import OutboxMessage
from tests.support.stack import Stack

NOW = datetime.now(UTC)
OLD = NOW - timedelta(minutes=10)
#: The reconcile age the tests pass: rows sent before NOW - AGE are old enough.
AGE = 120


def add_row(
    stack: Stack,
    *,
    actor: str = "process_job",
    sent_at: datetime | None = OLD,
    done_at: datetime | None = None,
) -> OutboxMessage:
    with stack.db() as session:
        row = OutboxMessage(
            actor=actor,
            args=[str(uuid.uuid4())],
            created_at=sent_at or NOW,
            sent_at=sent_at,
            attempts=1 if sent_at else 0,
            done_at=done_at,
        )
        session.add(row)
    return row


def rows(stack: Stack) -> dict[uuid.UUID, OutboxMessage]:
    with stack.db() as session:
        return {row.id: row for row in session.scalars(select(OutboxMessage))}
