"""Reminder runs on SQLite and the StubBroker, time injected."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from rollcall.domain.clock import utcnow
from rollcall.domain.errors.enrollment import EventFull
from rollcall.domain.jobs.engine import HANDLERS, apply_job, handles, submit_job
from rollcall.domain.ops.mail import queue_email
from rollcall.domain.reminders.runs import record_due_reminders
from rollcall.models import EmailMessage, Job, OutboxMessage
from rollcall.scheduler.reminder_producers import produce_reminders
from rollcall.workers import mail_run
from tests.support.factories import job, published_event
from tests.support.reminders import mails, runs, seed_enrollments
from tests.support.stack import Stack
from tests.support.statements import counting

START = datetime(2027, 3, 2, 9, 0, tzinfo=UTC)
MOMENT = START - timedelta(minutes=1440)  # 2027-03-01 09:00 UTC


def reminder_event(stack: Stack, key: str, ref: str = "intro", **fields: Any) -> dict[str, Any]:
    return published_event(
        stack,
        key,
        ref=ref,
        starts_at=START.isoformat(),
        ends_at=(START + timedelta(hours=3)).isoformat(),
        reminder_before_minutes=1440,
        **fields,
    )


def enrolled(*refs: str, at: datetime = MOMENT) -> list[tuple[str, str, str, datetime, str]]:
    """People enrolled in the event as a whole at ``at`` (seed_enrollments rows)."""
    return [(ref, ref.title(), "enrolled", at, "event") for ref in refs]


def people(count: int) -> list[str]:
    return [f"p{i}" for i in range(count)]


def seeded_event(
    stack: Stack,
    key: str,
    rows: list[tuple[str, str, str, datetime | None, str]],
    **fields: Any,
) -> dict[str, Any]:
    """reminder_event with these people seeded."""
    event = reminder_event(stack, key, **fields)
    with stack.db() as session:
        seed_enrollments(session, event["id"], rows)
    return event


def recorded_run(stack: Stack, now: datetime = MOMENT) -> uuid.UUID:
    """Record the run due at ``now`` as the tick would (not dispatched)."""
    with stack.db() as session:
        (run,) = record_due_reminders(session, now=now, grace=timedelta(hours=1))
        return run.id


def send_run(stack: Stack, run_id: uuid.UUID, now: Callable[[], datetime]) -> mail_run.RunReport:
    """Send the run in this process, as its worker would, on the clock ``now``."""
    return mail_run.send_reminder_run(stack.sessions, stack.settings, stack.broker, run_id, now=now)


def test_reminder_at_the_minute_boundary_mails_who_was_enrolled(component_stack: Stack) -> None:
    # Given an event with a reminder 1440 minutes before its start, and people
    # enrolled before the moment, after it, waitlisted, removed, per occurrence
    key = component_stack.key()
    seeded_event(
        component_stack,
        key,
        [
            ("ada", "Ada", "enrolled", MOMENT - timedelta(days=3), "event"),
            ("eve", "Eve", "enrolled", MOMENT, "occ"),
            ("bob", "Bob", "enrolled", MOMENT + timedelta(seconds=1), "event"),
            ("cat", "Cat", "waitlisted", None, "event"),
            ("dan", "Dan", "removed", MOMENT - timedelta(days=2), "event"),
        ],
    )

    # When the scheduler ticks one microsecond before the moment
    assert produce_reminders(component_stack.settings, now=MOMENT - timedelta(microseconds=1)) == 0
    # Then nothing is recorded; and at the moment itself one run is
    assert produce_reminders(component_stack.settings, now=MOMENT) == 1
    component_stack.drain()

    # Then Ada and Eve (enrolled at the moment) each got one reminder, nobody else
    received = sorted(m["To"].addresses[0].addr_spec for m in component_stack.sink.wait_for(2))
    assert received == ["ada@example.org", "eve@example.org"]
    with component_stack.db() as session:
        (run,) = runs(session)
        assert (run.kind, run.state, run.recipients, run.due_at) == ("before", "done", 2, MOMENT)
        assert [m.state for m in mails(session)] == ["sent", "sent"]

    # And later ticks (a restart, a second scheduler, a late tick) record nothing more
    assert produce_reminders(component_stack.settings, now=MOMENT + timedelta(minutes=1)) == 0
    assert produce_reminders(component_stack.settings, now=MOMENT + timedelta(hours=5)) == 0
    component_stack.drain()
    assert len(component_stack.sink.messages) == 2


def test_reminder_found_past_the_grace_is_missed_not_sent(component_stack: Stack) -> None:
    key = component_stack.key()
    seeded_event(component_stack, key, [("ada", "Ada", "enrolled", MOMENT - timedelta(1), "event")])

    # When the first tick after the moment comes 61 minutes late
    assert produce_reminders(component_stack.settings, now=MOMENT + timedelta(minutes=61)) == 1
    component_stack.drain()

    # Then the run is recorded as missed and nobody is mailed
    with component_stack.db() as session:
        (run,) = runs(session)
        assert run.state == "missed"
        assert mails(session) == []
    assert component_stack.sink.messages == []


def test_follow_up_after_the_end(component_stack: Stack) -> None:
    key = component_stack.key()
    event = published_event(
        component_stack,
        key,
        ref="after",
        starts_at=START.isoformat(),
        ends_at=(START + timedelta(hours=3)).isoformat(),
        reminder_after_minutes=60,
    )
    with component_stack.db() as session:
        seed_enrollments(
            session, event["id"], [("ada", "Ada", "enrolled", START - timedelta(1), "event")]
        )
    due = START + timedelta(hours=4)
    assert produce_reminders(component_stack.settings, now=due - timedelta(seconds=1)) == 0
    assert produce_reminders(component_stack.settings, now=due) == 1
    component_stack.drain()
    (mail,) = component_stack.sink.wait_for(1)
    assert mail["Subject"] == "Thank you for attending Intro to Rollcall"
    assert not [part for part in mail.iter_attachments()]  # no .ics after the fact


def test_reminder_escapes_names_shows_local_time_and_attaches_ics(component_stack: Stack) -> None:
    # Given an attendee named <script> enrolled before the moment
    key = component_stack.key()
    seeded_event(
        component_stack,
        key,
        [("ada", "Ada <script>alert(1)</script>", "enrolled", MOMENT, "event")],
        description="Bring a <laptop> & charger",
    )

    produce_reminders(component_stack.settings, now=MOMENT)
    component_stack.drain()

    # Then the HTML escapes the name and description; times are local with the zone
    (mail,) = component_stack.sink.wait_for(1)
    html = mail.get_body(preferencelist=("html",)).get_content()
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert "Ada &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>" not in html
    assert "Bring a &lt;laptop&gt; &amp; charger" in html
    # (Babel's English; CLDR's narrow no-break space before AM is one space in a subject)
    assert mail["Subject"] == "Reminder: Intro to Rollcall on March 2, 2027, 10:00 AM"
    assert "March 2, 2027, 10:00\u202fAM Central European Standard Time until 1:00\u202fPM" in text
    # And the display name cannot inject a header
    assert mail["To"].addresses[0].addr_spec == "ada@example.org"
    assert len(mail.get_all("To")) == 1
    (ics,) = list(mail.iter_attachments())
    assert ics.get_content_type() == "text/calendar"
    body = ics.get_content()
    body = body.decode() if isinstance(body, bytes) else body
    assert "DTSTART:20270302T090000Z" in body
    assert "SUMMARY:Intro to Rollcall" in body


def test_redelivered_run_message_mails_nobody_twice(component_stack: Stack) -> None:
    key = component_stack.key()
    seeded_event(component_stack, key, enrolled(*people(5)))
    produce_reminders(component_stack.settings, now=MOMENT)
    component_stack.drain()
    assert len(component_stack.sink.wait_for(5)) == 5

    # When the run's message is delivered again
    from rollcall.workers.actors import run_reminder

    with component_stack.db() as session:
        (run,) = runs(session)
    run_reminder.send(str(run.id))
    component_stack.drain()

    # Then no new mail is written or sent
    with component_stack.db() as session:
        assert len(mails(session)) == 5
    assert len(component_stack.sink.messages) == 5


def test_run_interrupted_mid_way_resends_only_the_mail_in_doubt(
    component_stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a run to 5 people, whose worker dies after the server accepted the
    # second mail and before that was recorded
    component_stack.settings.reminder_batch_size = 2
    key = component_stack.key()
    seeded_event(component_stack, key, enrolled(*people(5)))
    real_record = mail_run._record_and_claim
    calls = {"n": 0}

    def dying_record(*args: Any, **kwargs: Any) -> int | None:
        calls["n"] += 1
        if calls["n"] >= 3:  # records mail 2 and claims mail 3; dead from then on
            raise SystemExit("worker killed")
        return real_record(*args, **kwargs)

    monkeypatch.setattr(mail_run, "_record_and_claim", dying_record)
    run_id = recorded_run(component_stack)  # the tick records it (not dispatched here)
    with pytest.raises(SystemExit):
        send_run(component_stack, run_id, lambda: MOMENT)
    with component_stack.db() as session:
        assert sorted(m.state for m in mails(session)) == ["queued"] * 3 + ["sending", "sent"]

    # When the run is delivered again after the crash, within the lease
    monkeypatch.setattr(mail_run, "_record_and_claim", real_record)
    send_run(component_stack, run_id, lambda: MOMENT + timedelta(seconds=1))

    # Then the three never claimed go out; the one in doubt waits for its lease
    assert len(component_stack.sink.messages) == 5
    with component_stack.db() as session:
        assert sorted(m.state for m in mails(session)) == ["sending"] + ["sent"] * 4

    # When the stalled-mail producer runs once the lease is over
    from rollcall.scheduler.reminder_producers import requeue_stalled_mail

    lease = timedelta(seconds=component_stack.settings.mail_lease_seconds)
    assert (
        requeue_stalled_mail(component_stack.settings, now=MOMENT + lease + timedelta(seconds=2))
        == 1
    )
    component_stack.drain()

    # Then everybody has the mail; the one in doubt arrived twice (same Message-ID)
    addresses = [m["To"].addresses[0].addr_spec for m in component_stack.sink.messages]
    assert sorted(set(addresses)) == [f"p{i}@example.org" for i in range(5)]
    doubled = [a for a in set(addresses) if addresses.count(a) > 1]
    assert len(addresses) == 6 and len(doubled) == 1
    ids = [
        m["Message-ID"]
        for m in component_stack.sink.messages
        if m["To"].addresses[0].addr_spec == doubled[0]
    ]
    assert ids[0] == ids[1]
    with component_stack.db() as session:
        assert sorted(m.state for m in mails(session)) == ["sent"] * 5
        assert runs(session)[0].state == "done"


def test_ad_hoc_reminder_is_a_job(component_stack: Stack) -> None:
    # Given Ada enrolled (the ad-hoc run's moment is the real now)
    key = component_stack.key()
    event = reminder_event(component_stack, key)
    past = datetime(2020, 1, 1, tzinfo=UTC)
    with component_stack.db() as session:
        seed_enrollments(session, event["id"], [("ada", "Ada", "enrolled", past, "event")])

    response = component_stack.client.post(
        "/v1/events/intro/reminders", json={}, headers=component_stack.auth(key)
    )
    assert response.status_code == 202, response.text
    assert response.headers["Location"] == f"/v1/jobs/{response.json()['id']}"
    component_stack.drain()

    done = job(component_stack, key, response.json()["id"])
    assert done["status"] == "succeeded"
    (mail,) = component_stack.sink.wait_for(1)
    assert mail["Subject"].startswith("Reminder: Intro to Rollcall")

    # A second ad-hoc reminder is a new run: it mails again, once
    again = component_stack.client.post(
        "/v1/events/intro/reminders", headers=component_stack.auth(key)
    )
    assert again.status_code == 202
    component_stack.drain()
    assert len(component_stack.sink.wait_for(2)) == 2


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"occurrence_id": "00000000-0000-0000-0000-000000000000"}, 404, "OCCURRENCE_NOT_FOUND"),
        ({"occurrence_id": "nope"}, 422, "VALIDATION_ERROR"),
        ({"unknown": 1}, 422, "VALIDATION_ERROR"),
    ],
)
def test_ad_hoc_reminder_refusals(
    component_stack: Stack, body: dict[str, Any], status: int, code: str
) -> None:
    key = component_stack.key()
    reminder_event(component_stack, key)
    response = component_stack.client.post(
        "/v1/events/intro/reminders", json=body, headers=component_stack.auth(key)
    )
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


def test_ad_hoc_reminder_needs_events_write_and_an_upcoming_date(component_stack: Stack) -> None:
    reader = component_stack.key(scopes=["events:read"])
    writer = component_stack.key()
    published_event(component_stack, writer, ref="undated")
    response = component_stack.client.post(
        "/v1/events/undated/reminders", headers=component_stack.auth(reader)
    )
    assert response.json()["error"]["code"] == "INSUFFICIENT_SCOPE"
    response = component_stack.client.post(
        "/v1/events/undated/reminders", headers=component_stack.auth(writer)
    )
    assert (response.status_code, response.json()["error"]["code"]) == (
        409,
        "NO_UPCOMING_OCCURRENCE",
    )


def test_emails_api_lists_states_for_ops(component_stack: Stack) -> None:
    key = component_stack.key()
    seeded_event(component_stack, key, enrolled("ada"))
    produce_reminders(component_stack.settings, now=MOMENT)
    component_stack.drain()

    sent = component_stack.client.get(
        "/v1/emails?status=sent", headers=component_stack.auth(key)
    ).json()
    (item,) = sent["items"]
    assert (item["template"], item["state"], item["attempts"]) == ("reminder_before", "sent", 1)
    failed = component_stack.client.get(
        "/v1/emails?status=failed", headers=component_stack.auth(key)
    )
    assert failed.json()["items"] == []
    bad = component_stack.client.get("/v1/emails?status=lost", headers=component_stack.auth(key))
    assert (bad.status_code, bad.json()["error"]["code"]) == (422, "VALIDATION_ERROR")
    no_ops = component_stack.key(scopes=["events:read"])
    denied = component_stack.client.get("/v1/emails", headers=component_stack.auth(no_ops))
    assert denied.status_code == 403
    # Another organisation sees none of it
    other = component_stack.key("globex")
    assert component_stack.client.get("/v1/emails", headers=component_stack.auth(other)).json() == {
        "items": []
    }


def test_a_domain_rollback_leaves_no_mail(component_stack: Stack) -> None:
    # Given a job whose handler queues a mail and then refuses
    @handles("test_mail_then_refuse")
    def refuse(session: Any, job_row: Job, now: datetime) -> dict[str, Any]:
        queue_email(
            session,
            organisation_id=job_row.organisation_id,
            template="enrollment_confirmed",
            to_address="ada@example.org",
            to_name="Ada",
            context={},
            now=now,
        )
        raise EventFull(max_subscriptions=0)

    try:
        component_stack.key()
        with component_stack.db() as session:
            from rollcall.models import Organisation

            org = session.scalars(select(Organisation)).one()
            submitted, _ = submit_job(
                session,
                organisation_id=org.id,
                type="test_mail_then_refuse",
                payload={},
                now=MOMENT,
            )
        # When the job is applied
        produced = apply_job(component_stack.sessions, submitted.id, now=lambda: MOMENT)

        # Then the job failed and neither a mail nor its outbox message remains
        assert produced == []
        with component_stack.db() as session:
            assert session.get(Job, submitted.id).status == "failed"  # type: ignore[union-attr]
            assert session.scalar(select(func.count()).select_from(EmailMessage)) == 0
            assert (
                session.scalar(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(OutboxMessage.actor == "send_email")
                )
                == 0
            )
        component_stack.drain()
        assert component_stack.sink.messages == []
    finally:
        HANDLERS.pop("test_mail_then_refuse", None)


def test_an_organisation_can_override_a_template(component_stack: Stack, tmp_path: Any) -> None:
    # Given a copy of the templates with an override for acme's reminder subject
    import shutil

    templates = tmp_path / "templates"
    shutil.copytree(component_stack.settings.templates_dir, templates)
    key = component_stack.key()
    event = reminder_event(component_stack, key)
    with component_stack.db() as session:
        from rollcall.models import Event

        org_id = session.get(Event, uuid.UUID(event["id"])).organisation_id  # type: ignore[union-attr]
        seed_enrollments(session, event["id"], [("ada", "Ada", "enrolled", MOMENT, "event")])
    override = templates / "email" / "org" / str(org_id)
    override.mkdir(parents=True)
    (override / "reminder_before.subject.txt").write_text(
        "Acme says: see you at {{ event.name }}\n"
    )
    component_stack.settings.templates_dir = templates

    produce_reminders(component_stack.settings, now=MOMENT)
    component_stack.drain()

    (mail,) = component_stack.sink.wait_for(1)
    assert mail["Subject"] == "Acme says: see you at Intro to Rollcall"
    assert "Hello Ada" in mail.get_body(preferencelist=("plain",)).get_content()


def test_unreachable_smtp_keeps_the_rest_queued_for_the_retried_run(component_stack: Stack) -> None:
    # Given a run to four people and an SMTP server that is down
    from rollcall.workers.smtp import TransientMailError
    from tests.support.services import free_port

    component_stack.settings.mail_retry_base_ms = 50
    key = component_stack.key()
    seeded_event(component_stack, key, enrolled(*"abcd"))
    run_id = recorded_run(component_stack)
    sink_url = component_stack.settings.smtp_url
    component_stack.settings.smtp_url = f"smtp://127.0.0.1:{free_port()}"

    # When the run is sent, it gives up after two connection failures. (The run
    # is sent on the real clock, as the in-process worker's send_email retries
    # are: on a clock of its own, months ahead, the retried run took a mail
    # send_email held within its lease for one whose lease was long over, and
    # sent it a second time; test_a_retried_run_leaves_a_held_mail_to_its_sender.)
    with pytest.raises(TransientMailError):
        send_run(component_stack, run_id, utcnow)
    with component_stack.db() as session:
        states = sorted((m.state, m.attempts) for m in mails(session))
    # Then two mails were attempted (retrying), the untried two are still queued
    assert states == [("queued", 0), ("queued", 0), ("retrying", 1), ("retrying", 1)]

    # When the server is back and the run is retried
    component_stack.settings.smtp_url = sink_url
    send_run(component_stack, run_id, utcnow)
    component_stack.drain()  # the retrying two go through send_email

    # Then each of the four got exactly one mail and the run is done
    assert addresses_of(component_stack) == [f"{p}@example.org" for p in "abcd"]
    with component_stack.db() as session:
        assert sorted(m.state for m in mails(session)) == ["sent"] * 4
        assert runs(session)[0].state == "done"


def test_stalled_retrying_mail_is_requeued(component_stack: Stack) -> None:
    # Given a mail left "retrying" long ago (its retry message was lost)
    from rollcall.scheduler.reminder_producers import requeue_stalled_mail

    component_stack.key()
    with component_stack.db() as session:
        from rollcall.models import Organisation

        org = session.scalars(select(Organisation)).one()
        mail = queue_email(
            session,
            organisation_id=org.id,
            template="enrollment_waitlisted",
            to_address="ada@example.org",
            to_name="Ada",
            context={
                "event": {"name": "Intro"},
                "attendee": {"name": "Ada", "email": "ada@example.org"},
                "enrollment": {"waitlist_position": 1},
            },
            now=MOMENT,
        )
        mail.state, mail.attempts, mail.updated_at = "retrying", 3, MOMENT
    # When the scheduler's stalled-mail producer runs a day later
    assert requeue_stalled_mail(component_stack.settings, now=MOMENT + timedelta(days=1)) == 1
    component_stack.drain()

    # Then it is sent, once
    (received,) = component_stack.sink.wait_for(1)
    assert received["Subject"] == "You are on the waiting list: Intro"
    with component_stack.db() as session:
        row = session.get(EmailMessage, mail.id)
        assert row is not None and (row.state, row.attempts) == ("sent", 4)


def addresses_of(stack: Stack) -> list[str]:
    return sorted(m["To"].addresses[0].addr_spec for m in stack.sink.messages)


def test_run_mails_record_attempts_and_a_stable_message_id(component_stack: Stack) -> None:
    key = component_stack.key()
    seeded_event(component_stack, key, enrolled("ada"))
    produce_reminders(component_stack.settings, now=MOMENT)
    component_stack.drain()
    (received,) = component_stack.sink.wait_for(1)
    with component_stack.db() as session:
        (row,) = mails(session)
    assert (row.state, row.attempts) == ("sent", 1)
    assert row.sent_at is not None  # the worker's clock
    assert row.message_id == f"<{row.id}@rollcall.localhost>" == received["Message-ID"]


def test_a_run_for_an_event_cancelled_before_sending_mails_nobody(component_stack: Stack) -> None:
    # Given a recorded run whose event is cancelled before a worker picks it up
    from rollcall.models import Event

    key = component_stack.key()
    event = seeded_event(component_stack, key, enrolled("ada"))
    run_id = recorded_run(component_stack)
    with component_stack.db() as session:
        row = session.get(Event, uuid.UUID(event["id"]))
        assert row is not None
        row.cancelled = True

    # When the run is sent
    send_run(component_stack, run_id, lambda: MOMENT)

    # Then it is cancelled and nobody is mailed
    with component_stack.db() as session:
        assert runs(session)[0].state == "cancelled"
        assert mails(session) == []
    assert component_stack.sink.messages == []


def _short_notice_event(stack: Stack, key: str) -> dict[str, Any]:
    """Reminder 30 minutes before the start, with the default 60-minute grace."""
    return published_event(
        stack,
        key,
        ref="soon",
        starts_at=START.isoformat(),
        ends_at=(START + timedelta(hours=3)).isoformat(),
        reminder_before_minutes=30,
    )


def test_a_before_reminder_found_after_the_start_is_missed_not_sent(
    component_stack: Stack,
) -> None:
    # Issue 14: found 40 minutes after its moment (within the grace), 10 after the start
    key = component_stack.key()
    event = _short_notice_event(component_stack, key)
    with component_stack.db() as session:
        seed_enrollments(
            session, event["id"], [("ada", "Ada", "enrolled", START - timedelta(1), "event")]
        )
    assert produce_reminders(component_stack.settings, now=START + timedelta(minutes=10)) == 1
    component_stack.drain()

    with component_stack.db() as session:
        (run,) = runs(session)
        assert run.state == "missed"
        assert run.note is not None and "after the occurrence started" in run.note
        assert mails(session) == []
    assert component_stack.sink.messages == []


def test_a_before_run_delayed_past_the_start_sends_nothing(component_stack: Stack) -> None:
    # Given a run recorded in time, whose worker only gets to it after the start
    key = component_stack.key()
    event = _short_notice_event(component_stack, key)
    with component_stack.db() as session:
        seed_enrollments(
            session, event["id"], [("ada", "Ada", "enrolled", START - timedelta(1), "event")]
        )
    run_id = recorded_run(component_stack, now=START - timedelta(minutes=30))

    # When the run is sent one minute after the start
    send_run(component_stack, run_id, lambda: START + timedelta(minutes=1))

    # Then it is missed, with the reason recorded, and nobody is mailed
    with component_stack.db() as session:
        (recorded,) = runs(session)
        assert recorded.state == "missed"
        assert recorded.note is not None and "had started" in recorded.note
        assert mails(session) == []
    assert component_stack.sink.messages == []


def test_a_retried_run_leaves_a_held_mail_to_its_sender(component_stack: Stack) -> None:
    # Given a run whose first mail send_email has just claimed (within its lease)
    component_stack.stop()  # nobody else sends
    key = component_stack.key()
    seeded_event(component_stack, key, enrolled("a", "b"))
    run_id = recorded_run(component_stack)
    with component_stack.db() as session:
        from rollcall.domain.reminders.runs import prepare_reminder_run

        prepare_reminder_run(session, run_id=run_id, now=utcnow())
    with component_stack.db() as session:
        held = session.get(EmailMessage, mails(session)[0].id)
        assert held is not None
        held.state, held.attempts, held.updated_at = "sending", 1, utcnow()

    # When the run is retried on the same clock
    report = send_run(component_stack, run_id, utcnow)

    # Then it sends only the other mail: the held one is its sender's
    assert report.sent == 1
    assert addresses_of(component_stack) == ["b@example.org"]


@pytest.mark.parametrize(("count", "reads"), [(5, 3), (4, 3), (1, 1)])
def test_a_run_reads_its_mails_a_window_at_a_time_and_not_again_after_a_short_one(
    component_stack: Stack, count: int, reads: int
) -> None:
    # Given a run to ``count`` people, read two mails a window
    component_stack.settings.reminder_batch_size = 2
    key = component_stack.key()
    seeded_event(component_stack, key, enrolled(*people(count)))
    run_id = recorded_run(component_stack)

    # When it is sent
    with counting(component_stack) as statements:
        send_run(component_stack, run_id, lambda: MOMENT)

    # Then every mail went out, and the mails were read once a window: a
    # window shorter than two was the last (5 -> 2, 2, 1), and only after a
    # full one is there a read that finds none (4 -> 2, 2, 0)
    assert len(component_stack.sink.messages) == count
    windows = [
        s
        for s in statements
        if s.lstrip().upper().startswith("SELECT") and "FROM email_messages" in s and "LIMIT" in s
    ]
    assert len(windows) == reads, windows
