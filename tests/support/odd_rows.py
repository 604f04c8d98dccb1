"""Rows that got into the database before the edges refused such dates: an
event (and its occurrence) moved to year 1 straight in the database."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from rollcall.models import Event, Occurrence
from tests.support.stack import Stack

YEAR_1 = datetime(1, 1, 1, 0, 30, tzinfo=UTC)


def move_to_year_1(stack: Stack, event_id: str) -> None:
    """The event and its occurrences start on 0001-01-01 00:30 UTC: any
    reminder moment before that is before the first representable date."""
    key = uuid.UUID(event_id)
    with stack.db() as session:
        session.execute(
            update(Event)
            .where(Event.id == key)
            .values(starts_at=YEAR_1, ends_at=YEAR_1 + timedelta(hours=1))
        )
        session.execute(
            update(Occurrence)
            .where(Occurrence.event_id == key)
            .values(starts_at=YEAR_1, ends_at=YEAR_1 + timedelta(hours=1))
        )
