"""A before-reminder written before its occurrence's start is never sent after
it (issue 14 #2): each mail carries the run's send deadline (``not_after``),
and every path that could still send it (the rest of a long run, a retry
through ``send_email``, the stalled-mail requeue) asks one rule,
domain.ops.mail_claims.claimable_before. A mail past it ends ``expired``,
visible to operators, and holds no later mail back. SQLite and the StubBroker,
time injected; tests/integration/test_mail_deadline_end_to_end.py shows it on
real parts."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select

from rollcall.domain.ops.mail import queue_email
from rollcall.domain.reminders.runs import record_due_reminders
from rollcall.models import EmailMessage, Organisation, OutboxMessage
from rollcall.scheduler.reminder_producers import requeue_stalled_mail
from rollcall.workers import mail_run
from rollcall.workers.mail_delivery import deliver_email
from tests.support.ops import labels, metrics, sign_in
from tests.support.reminders import mails, reminded_event, runs
from tests.support.stack import Stack

START = datetime(2027, 3, 2, 9, 0, tzinfo=UTC)
MOMENT = START - timedelta(minutes=30)
LATE = START + timedelta(seconds=1)


def recorded_run(stack: Stack, key: str, people: int) -> uuid.UUID:
    """A before-reminder run, due 30 minutes before START, recorded (not sent)."""
    reminded_event(
        stack,
        key,
        ref="intro",
        starts_at=START,
        hours=2,
        before_minutes=30,
        people=[(f"p{i}", f"P {i}") for i in range(people)],
        enrolled_at=MOMENT - timedelta(days=1),
    )
    with stack.db() as session:
        (run,) = record_due_reminders(session, now=MOMENT, grace=timedelta(hours=1))
        return run.id


def send_run(stack: Stack, run_id: uuid.UUID, now: Any) -> mail_run.RunReport:
    return mail_run.send_reminder_run(stack.sessions, stack.settings, stack.broker, run_id, now=now)


def test_a_long_run_sends_nothing_once_the_occurrence_has_started(component_stack: Stack) -> None:
    # Given a run to three people, each mail written with the start as its deadline
    key = component_stack.key()
    run_id = recorded_run(component_stack, key, people=3)
    sink = component_stack.sink

    # When the occurrence starts while the run is under way (after the first mail)
    report = send_run(component_stack, run_id, lambda: LATE if sink.messages else MOMENT)

    # Then only the mail sent before the start went; the other two are expired,
    # with their reason, and the run is done
    assert len(sink.messages) == 1
    assert (report.sent, report.expired) == (1, 2)
    with component_stack.db() as session:
        rows = mails(session)
        assert {row.not_after for row in rows} == {START}
        assert sorted(row.state for row in rows) == ["expired", "expired", "sent"]
        expired = [row for row in rows if row.state == "expired"]
        assert all("deadline" in (row.last_error or "") for row in expired)
        assert all(row.attempts == 0 for row in expired)
        assert runs(session)[0].state == "done"


def test_a_retry_after_the_start_expires_the_mail(component_stack: Stack) -> None:
    # Given a run whose only mail the server refused with 451 before the start
    key = component_stack.key()
    run_id = recorded_run(component_stack, key, people=1)
    component_stack.sink.replies.append("451 4.3.0 try again later")
    report = send_run(component_stack, run_id, lambda: MOMENT)
    assert report.retrying == 1
    with component_stack.db() as session:
        (mail,) = mails(session)

    # When send_email retries it after the occurrence has started
    outcome = deliver_email(
        component_stack.sessions,
        component_stack.settings,
        mail.id,
        now=lambda: LATE,
        last_attempt=False,
    )

    # Then it is expired, not sent, and a redelivered retry changes nothing
    assert outcome.state == "expired"
    assert component_stack.sink.messages == []
    again = deliver_email(
        component_stack.sessions, component_stack.settings, mail.id, now=lambda: LATE,
        last_attempt=False,
    )  # fmt: skip
    assert again.state == "expired"
    with component_stack.db() as session:
        (row,) = mails(session)
        assert (row.state, row.attempts) == ("expired", 1)
        assert row.last_error is not None and "deadline" in row.last_error


def test_the_stalled_mail_requeue_expires_rather_than_hands_over(component_stack: Stack) -> None:
    # Given a run whose sender died holding one mail, with one more never claimed
    key = component_stack.key()
    run_id = recorded_run(component_stack, key, people=2)
    with component_stack.db() as session:
        from rollcall.domain.reminders.runs import prepare_reminder_run

        prepare_reminder_run(session, run_id=run_id, now=MOMENT)
    with component_stack.db() as session:
        first, _second = mails(session)
        held = session.get(EmailMessage, first.id)
        assert held is not None
        held.state, held.attempts, held.updated_at = "sending", 1, MOMENT
        session.execute(delete(OutboxMessage))

    # When the stalled-mail producer runs after the lease, the occurrence started
    lease = timedelta(seconds=component_stack.settings.mail_lease_seconds)
    assert requeue_stalled_mail(component_stack.settings, now=START + lease) == 0
    component_stack.drain()

    # Then neither mail is handed to a sender or sent; both end expired; the run is done
    assert component_stack.sink.messages == []
    with component_stack.db() as session:
        assert sorted(row.state for row in mails(session)) == ["expired", "expired"]
        assert runs(session)[0].state == "done"
        handed = session.scalars(
            select(OutboxMessage).where(OutboxMessage.actor == "send_email")
        ).all()
        assert handed == []


def test_an_expired_mail_holds_no_later_mail_back(component_stack: Stack) -> None:
    # Given two ordered mails of one attendee and event, the earlier with a
    # deadline that has passed and still queued
    component_stack.key()
    attendee, event = uuid.uuid4(), uuid.uuid4()
    with component_stack.db() as session:
        org = session.scalars(select(Organisation)).one()
        ids = []
        for template in ("enrollment_confirmed", "enrollment_waitlisted"):
            mail = queue_email(
                session,
                organisation_id=org.id,
                template=template,
                to_address="ada@example.org",
                to_name="Ada",
                context={
                    "event": {"name": "Intro"},
                    "attendee": {"name": "Ada", "email": "ada@example.org"},
                    "enrollment": {"waitlist_position": 1},
                },
                now=MOMENT,
                about=(attendee, event),
            )
            ids.append(mail.id)
        earlier = session.get(EmailMessage, ids[0])
        assert earlier is not None
        earlier.not_after = START

    # When the later mail is delivered after that deadline, before the earlier one
    outcome = deliver_email(
        component_stack.sessions, component_stack.settings, ids[1], now=lambda: LATE,
        last_attempt=False,
    )  # fmt: skip

    # Then it goes at once; the earlier one, delivered next, expires
    assert outcome.state == "sent"
    earlier_outcome = deliver_email(
        component_stack.sessions, component_stack.settings, ids[0], now=lambda: LATE,
        last_attempt=False,
    )  # fmt: skip
    assert earlier_outcome.state == "expired"
    assert [m["Subject"] for m in component_stack.sink.messages] == [
        "You are on the waiting list: Intro"
    ]


def test_operators_see_expired_mail_in_metrics_ops_and_the_api(component_stack: Stack) -> None:
    # Given a run written before the start whose mail came to be sent after it
    key = component_stack.key(operator=True)
    run_id = recorded_run(component_stack, key, people=1)
    clock = iter([MOMENT])  # the run is prepared before the start, the rest after
    assert send_run(component_stack, run_id, lambda: next(clock, LATE)).expired == 1

    # Then /metrics counts it, /ops lists it with its reason, the API finds it
    assert metrics(component_stack, key)["rollcall_mail"][labels(state="expired")] == 1
    cookie = sign_in(component_stack, key)
    page = component_stack.client.get("/ops/mail?state=expired", headers=cookie).text
    assert "p0@example.org" in page and "send deadline" in page
    overview = component_stack.client.get("/ops", headers=cookie).text
    assert "/ops/mail?state=expired" in overview
    listed = component_stack.client.get(
        "/v1/emails?status=expired", headers=component_stack.auth(key)
    ).json()["items"]
    assert [item["state"] for item in listed] == ["expired"]
