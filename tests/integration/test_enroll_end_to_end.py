"""The foundation's promise on real parts: HTTP -> PostgreSQL -> Redis -> worker -> SMTP."""

from __future__ import annotations

from sqlalchemy import select

from rollcall.models import EmailMessage, Enrollment, Payment
from tests.support.factories import enroll, job, published_event
from tests.support.stack import Stack


def test_enrollment_mail_arrives_in_the_sink(real_stack: Stack) -> None:
    # Given a published event on PostgreSQL
    key = real_stack.key()
    published_event(
        real_stack,
        key,
        ref="intro",
        max_subscriptions=10,
        starts_at="2027-03-01T09:00:00+01:00",
        ends_at="2027-03-01T12:00:00+01:00",
    )

    # When an attendee named <script> is enrolled over HTTP
    body = {"attendee": {"ref": "ada", "email": "ada@example.org", "name": "Ada <script>"}}
    response = real_stack.client.post(
        "/v1/events/intro/enrollments", json=body, headers=real_stack.auth(key)
    )
    assert response.status_code == 202
    assert response.headers["Location"] == f"/v1/jobs/{response.json()['id']}"
    real_stack.drain()

    # Then the job succeeded, the rows are in PostgreSQL and one mail reached the sink
    assert job(real_stack, key, response.json()["id"])["status"] == "succeeded"
    with real_stack.db() as session:
        assert session.scalars(select(Enrollment.status)).all() == ["enrolled"]
        assert session.scalars(select(Payment.state)).all() == ["manual_enrolled"]
        assert session.scalars(select(EmailMessage.state)).all() == ["sent"]
    (mail,) = real_stack.sink.wait_for(1)
    assert mail["To"].addresses[0].addr_spec == "ada@example.org"
    assert mail["Subject"] == "You are enrolled: Intro to Rollcall"
    html = mail.get_body(preferencelist=("html",)).get_content()
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert "Ada &lt;script&gt;" in html and "<script>" not in html
    assert "9:00\u202fAM Central European Standard Time" in text  # local time, zone shown


def test_idempotency_key_returns_the_first_job(real_stack: Stack) -> None:
    key = real_stack.key()
    published_event(real_stack, key, ref="idem")
    first = enroll(real_stack, key, "idem", "ada", headers={"Idempotency-Key": "k-1"})
    second = enroll(real_stack, key, "idem", "ada", headers={"Idempotency-Key": "k-1"})
    real_stack.drain()
    assert first["id"] == second["id"]
    with real_stack.db() as session:
        assert len(session.scalars(select(Enrollment)).all()) == 1
    assert len(real_stack.sink.wait_for(1)) == 1


def test_redelivered_message_changes_nothing_twice(real_stack: Stack) -> None:
    key = real_stack.key()
    published_event(real_stack, key, ref="redeliver")
    accepted = enroll(real_stack, key, "redeliver", "ada")
    real_stack.drain()

    # When the same job message is delivered again
    from rollcall.workers.actors import process_job

    process_job.send(accepted["id"])
    real_stack.drain()

    with real_stack.db() as session:
        assert len(session.scalars(select(Enrollment)).all()) == 1
        assert len(session.scalars(select(Payment)).all()) == 1
        assert len(session.scalars(select(EmailMessage)).all()) == 1
    assert len(real_stack.sink.wait_for(1)) == 1


def test_another_organisations_event_is_not_found(real_stack: Stack) -> None:
    ours = real_stack.key("acme")
    theirs = real_stack.key("globex")
    event = published_event(real_stack, ours, ref="private")
    for path in (f"/v1/events/{event['id']}", "/v1/events/private"):
        response = real_stack.client.get(path, headers=real_stack.auth(theirs))
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "EVENT_NOT_FOUND"
