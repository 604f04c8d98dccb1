"""The rows an enrollment writes, by the ORM or set-wise (COPY and multi-row
inserts: attendees, enrollments, mails, calendar entries, occurrences), all
get UUIDv7 ids from models.base.new_id (tests/unit/test_row_ids.py: that it
is v7 and ordered, and that no other place in the code makes a row id)."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from rollcall.models import (
    Attendee,
    CalendarEntry,
    EmailMessage,
    Enrollment,
    Event,
    Job,
    Occurrence,
    OutboxMessage,
)
from tests.support.factories import enroll, published_event
from tests.support.stack import Stack


def test_every_row_an_enrollment_writes_has_a_uuidv7_id(component_stack: Stack) -> None:
    # Given a dated event, and people enrolled in it (a group applies them set-wise)
    key = component_stack.key()
    published_event(
        component_stack,
        key,
        ref="ids",
        max_subscriptions=1,
        waiting_list=True,
        dates=[{"starts_at": "2031-03-01T10:00:00Z", "ends_at": "2031-03-01T12:00:00Z"}],
    )
    for ref in ("ada", "bob"):
        enroll(component_stack, key, "ids", ref)
    component_stack.drain()

    # Then every row written on the way has a UUIDv7 id
    with component_stack.db() as session:
        for model in (
            Event,
            Occurrence,
            Job,
            OutboxMessage,
            Attendee,
            Enrollment,
            EmailMessage,
            CalendarEntry,
        ):
            ids = list(session.scalars(select(model.id)))
            assert ids, model.__name__
            versions = {uuid.UUID(str(i)).version for i in ids}
            assert versions == {7}, model.__name__
