"""enroll_attendee writes on a guess from the counters it last read and takes
the seat last; when the seat goes the other way, the rows are corrected."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm.attributes import set_committed_value

from domain.attendees import upsert_attendee
from domain.clock import utcnow
from domain.enrollment import enroll_attendee
from models import EmailMessage, Event, Payment
from tests.support.factories import enroll, published_event
from tests.support.stack import Stack


def enroll_with_stale_count(stack: Stack, *, believed_enrolled: int) -> tuple[str, str, int]:
    with stack.db() as session:
        event = session.scalars(select(Event)).one()
        # What another worker's commit made stale: the count this session read
        set_committed_value(event, "enrolled_count", believed_enrolled)
        attendee = upsert_attendee(
            session,
            organisation_id=event.organisation_id,
            ref="late",
            email="l@x.org",
            name="Late",
            now=utcnow(),
        )
        enrollment = enroll_attendee(
            session, event=event, attendee=attendee, now=utcnow(), requested_at=utcnow()
        )
        session.flush()
        mail = session.scalars(
            select(EmailMessage).where(EmailMessage.to_address == "l@x.org")
        ).one()
        payments = session.scalars(
            select(Payment).where(Payment.enrollment_id == enrollment.id)
        ).all()
        return enrollment.status, mail.template, len(payments)


def test_guessed_a_seat_but_the_event_filled_up(unit_stack: Stack) -> None:
    # Given a one-seat event whose seat is taken, read as if it were free
    key = unit_stack.key()
    published_event(unit_stack, key, ref="ev", max_subscriptions=1, waiting_list=True)
    enroll(unit_stack, key, "ev", "ada")
    unit_stack.drain()
    # Then the late attendee is waitlisted, mailed as such, without a payment
    assert enroll_with_stale_count(unit_stack, believed_enrolled=0) == (
        "waitlisted",
        "enrollment_waitlisted",
        0,
    )


def test_guessed_the_waiting_list_but_a_seat_was_free(unit_stack: Stack) -> None:
    key = unit_stack.key()
    published_event(unit_stack, key, ref="ev", max_subscriptions=2, waiting_list=True)
    enroll(unit_stack, key, "ev", "ada")
    unit_stack.drain()
    assert enroll_with_stale_count(unit_stack, believed_enrolled=2) == (
        "enrolled",
        "enrollment_confirmed",
        1,
    )
