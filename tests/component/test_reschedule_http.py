"""Changing a published event with notice (seeds 000 and 003) over HTTP on
SQLite: one date rescheduled, the place changed; ONE ``event_changed`` mail per
attendee and trainer with the old and new time or place and an .ics that
updates the entry (same UID, higher SEQUENCE); ``send_notification: false``
changes quietly; reminder runs follow the new time; trainers get the
cancellation mails; every refusal with its code."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

from icalendar import Calendar
from sqlalchemy import select

from rollcall.domain.reminders.runs import record_due_reminders
from rollcall.models import Enrollment, Occurrence, ReminderRun
from rollcall.scheduler.reminder_producers import produce_reminders
from tests.support.event_helpers import call, make_attendee, ok, refused
from tests.support.factories import enroll, job, published_event
from tests.support.stack import Stack

START = datetime(2031, 9, 12, 9, 0, tzinfo=UTC)
NEW = datetime(2031, 9, 19, 13, 30, tzinfo=UTC)
VENUE = {"name": "De Balie", "latitude": 52.3637, "longitude": 4.8836}


def course(stack: Stack, key: str, **fields: Any) -> dict[str, Any]:
    """A published course with two dates, 1 seat and a waiting list; Ada
    enrolled, Bob waitlisted, Tess (not enrolled) its trainer."""
    event = published_event(
        stack,
        key,
        ref="course",
        max_subscriptions=1,
        waiting_list=True,
        venue=VENUE,
        dates=[
            {"starts_at": START.isoformat(), "ends_at": (START + timedelta(hours=3)).isoformat()},
            {
                "starts_at": (START + timedelta(days=1)).isoformat(),
                "ends_at": (START + timedelta(days=1, hours=3)).isoformat(),
            },
        ],
        **fields,
    )
    for ref in ("ada", "bob"):
        enroll(stack, key, "course", ref)
    make_attendee(stack, "tess")
    ok(call(stack, key, "POST", "/v1/events/course/trainers", json={"refs": ["tess"]}))
    stack.drain()
    stack.sink.wait_for(2)
    return event


def first_date(stack: Stack, key: str) -> dict[str, Any]:
    items: list[dict[str, Any]] = ok(call(stack, key, "GET", "/v1/events/course/occurrences"))[
        "items"
    ]
    return items[0]


def move(stack: Stack, key: str, occurrence: str, start: datetime, **extra: Any) -> Any:
    body = {"starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=2)).isoformat()}
    return call(
        stack,
        key,
        "POST",
        f"/v1/events/course/occurrences/{occurrence}/reschedule",
        json=body | extra,
    )


def changed_mails(stack: Stack, count: int) -> dict[str, EmailMessage]:
    mails = [m for m in stack.sink.wait_for(count) if m["Subject"].startswith("Changed:")]
    by_person = {m["To"].addresses[0].username: m for m in mails}
    assert len(by_person) == len(mails), "one change mail per person"
    return by_person


def ics_of(mail: EmailMessage) -> list[Any]:
    (part,) = list(mail.iter_attachments())
    body = part.get_content()
    return list(Calendar.from_ical(body).walk("VEVENT"))


def test_a_moved_date_mails_each_attendee_and_trainer_once(component_stack: Stack) -> None:
    # Given a published course with Ada enrolled, Bob waitlisted and Tess training it
    key = component_stack.key()
    course(component_stack, key)
    date = first_date(component_stack, key)

    # When its first date moves a week later
    response = move(component_stack, key, date["id"], NEW)
    moved = ok(response)
    component_stack.drain()

    # Then the date has its new times, counted once more, and a job mails the notice
    assert moved["changed"] is True
    assert moved["occurrence"]["id"] == date["id"]
    assert moved["occurrence"]["starts_at"]["utc"] == "2031-09-19T13:30:00Z"
    assert moved["occurrence"]["sequence"] == 1
    assert response.headers["Notification-Job"] == f"/v1/jobs/{moved['notification_job']['id']}"
    result = job(component_stack, key, moved["notification_job"]["id"])["result"]
    assert (result["change"], result["recipients"], result["notified"]) == ("time", 3, 3)

    # And each of the three got ONE mail with the old and the new time and an updated .ics
    mails = changed_mails(component_stack, 5)
    assert sorted(mails) == ["ada", "bob", "tess"]
    text = mails["ada"].get_body(preferencelist=("plain",)).get_content()
    # (Babel's English: a narrow no-break space before AM/PM)
    summer = "Central European Summer Time"
    assert f"Was: Friday, September 12, 2031, 11:00\u202fAM {summer} until 2:00\u202fPM" in text
    assert f"Now: Friday, September 19, 2031, 3:30\u202fPM {summer} until 5:30\u202fPM" in text
    assert "Where: De Balie" in text
    assert "that you train" in mails["tess"].get_body(preferencelist=("plain",)).get_content()
    (vevent,) = ics_of(mails["bob"])
    assert str(vevent["UID"]) == f"{date['id']}@rollcall"
    assert vevent["SEQUENCE"] == 1
    assert vevent.decoded("DTSTART") == NEW
    assert str(vevent["LOCATION"]) == "De Balie"

    # And the enrollments stay as they were: one seat taken, one waiting
    event = ok(call(component_stack, key, "GET", "/v1/events/course"))
    assert (event["enrolled_count"], event["waitlisted_count"]) == (1, 1)
    with component_stack.db() as session:
        statuses = sorted(session.scalars(select(Enrollment.status)))
    assert statuses == ["enrolled", "waitlisted"]

    # And the same times again change nothing and mail nobody
    again = ok(move(component_stack, key, date["id"], NEW))
    assert (again["changed"], again["notification_job"]) == (False, None)
    component_stack.drain()
    assert len(component_stack.sink.wait_for(6, timeout=0.5)) == 5


def test_send_notification_false_changes_quietly(component_stack: Stack) -> None:
    key = component_stack.key()
    course(component_stack, key)
    date = first_date(component_stack, key)

    response = move(component_stack, key, date["id"], NEW, send_notification=False)
    moved = ok(response)
    patched = call(
        component_stack,
        key,
        "PATCH",
        "/v1/events/course",
        json={"online_url": "https://meet.example.org/c", "send_notification": False},
    )
    component_stack.drain()

    assert moved["changed"] is True and moved["notification_job"] is None
    assert "Notification-Job" not in response.headers
    assert ok(patched)["online_url"] == "https://meet.example.org/c"
    assert "Notification-Job" not in patched.headers
    assert len(component_stack.sink.wait_for(3, timeout=0.5)) == 2  # the two enrollment mails


def test_a_new_place_mails_old_and_new_place_with_the_dates(component_stack: Stack) -> None:
    # Given the published course at De Balie
    key = component_stack.key()
    course(component_stack, key)

    # When the organiser moves it online
    response = call(
        component_stack,
        key,
        "PATCH",
        "/v1/events/course",
        json={"venue": None, "online_url": "https://meet.example.org/c"},
    )
    ok(response)
    component_stack.drain()

    # Then each person got one mail saying where it was and where it is now
    notice = ok(call(component_stack, key, "GET", response.headers["Notification-Job"]))
    assert (notice["result"]["change"], notice["result"]["notified"]) == ("place", 3)
    mails = changed_mails(component_stack, 5)
    assert sorted(mails) == ["ada", "bob", "tess"]
    text = mails["ada"].get_body(preferencelist=("plain",)).get_content()
    was, now = text.split("Now:")
    assert "Where: De Balie" in was and "meet.example.org" not in was
    assert "Online: https://meet.example.org/c" in now and "De Balie" not in now
    # And the .ics updates both dates: new LOCATION and URL, SEQUENCE 1, no GEO
    vevents = ics_of(mails["ada"])
    assert [v["SEQUENCE"] for v in vevents] == [1, 1]
    assert {str(v["LOCATION"]) for v in vevents} == {"https://meet.example.org/c"}
    assert all("GEO" not in v for v in vevents)

    # And a place change of a draft mails nobody
    published_event(component_stack, key, ref="other")
    ok(call(component_stack, key, "POST", "/v1/events/other/unpublish"))
    draft = call(component_stack, key, "PATCH", "/v1/events/other", json={"venue": VENUE})
    assert "Notification-Job" not in ok(draft) and "Notification-Job" not in draft.headers


def test_reminder_runs_follow_the_new_time(component_stack: Stack) -> None:
    # Given the course reminds a day before, and the run of its first date is recorded
    key = component_stack.key()
    course(component_stack, key, reminder_before_minutes=1440)
    date = first_date(component_stack, key)
    old_moment = START - timedelta(days=1)
    with component_stack.db() as session:
        (run,) = record_due_reminders(session, now=old_moment, grace=timedelta(hours=1))
        old_run = run.id

    # When the date moves a week later, quietly
    moved = ok(move(component_stack, key, date["id"], NEW, send_notification=False))

    # Then the old run is cancelled, nothing is due at the old moment ...
    assert moved["reminders_cancelled"] == 1
    with component_stack.db() as session:
        old = session.get(ReminderRun, old_run)
        assert old is not None and old.state == "cancelled"
        assert old.note and "rescheduled" in old.note
    assert produce_reminders(component_stack.settings, now=old_moment) == 0
    # ... and exactly one new run at the new moment reminds Ada (the one enrolled);
    # (the second date's run, due on the 12th, is recorded missed on the way)
    new_moment = NEW - timedelta(days=1)

    def first_date_runs() -> list[tuple[str, str]]:
        with component_stack.db() as session:
            rows = session.execute(
                select(ReminderRun.run_key, ReminderRun.state)
                .where(ReminderRun.occurrence_id == uuid.UUID(date["id"]))
                .order_by(ReminderRun.created_at)
            ).all()
        return [(str(k), str(s)) for k, s in rows]

    produce_reminders(component_stack.settings, now=new_moment - timedelta(minutes=1))
    assert first_date_runs() == [("before", "cancelled")]
    assert produce_reminders(component_stack.settings, now=new_moment) == 1
    assert produce_reminders(component_stack.settings, now=new_moment) == 0
    component_stack.drain()
    reminders = [m for m in component_stack.sink.wait_for(3) if "Reminder" in m["Subject"]]
    assert [m["To"].addresses[0].username for m in reminders] == ["ada"]
    assert "September 19, 2031, 3:30 PM" in reminders[0]["Subject"].replace("\u202f", " ")
    (vevent,) = ics_of(reminders[0])
    assert vevent["SEQUENCE"] == 1
    assert first_date_runs() == [("before", "cancelled"), ("before#1", "done")]


def test_trainers_get_the_cancellation_mails(component_stack: Stack) -> None:
    key = component_stack.key()
    course(component_stack, key)
    date = first_date(component_stack, key)

    by_date = ok(
        call(component_stack, key, "POST", f"/v1/events/course/occurrences/{date['id']}/cancel"),
        202,
    )
    whole = ok(call(component_stack, key, "POST", "/v1/events/course/cancel"), 202)
    component_stack.drain()

    assert job(component_stack, key, by_date["id"])["result"]["notified"] == 3
    assert job(component_stack, key, whole["id"])["result"]["notified"] == 3
    cancelled = [
        m["To"].addresses[0].username
        for m in component_stack.sink.wait_for(8)
        if "ancelled" in m["Subject"]
    ]
    assert sorted(cancelled) == ["ada", "ada", "bob", "bob", "tess", "tess"]


def test_reschedule_refusals_have_their_codes(component_stack: Stack) -> None:
    key = component_stack.key()
    course(component_stack, key)
    first, second = ok(call(component_stack, key, "GET", "/v1/events/course/occurrences"))["items"]
    second_start = datetime.fromisoformat(second["starts_at"]["utc"].replace("Z", "+00:00"))

    refused(move(component_stack, key, first["id"], second_start), 409, "OCCURRENCE_START_TAKEN")
    error = refused(
        move(component_stack, key, first["id"], datetime(2020, 1, 1, tzinfo=UTC)),
        422,
        "OCCURRENCE_IN_PAST",
    )
    assert error["details"]["starts_at"] == "2020-01-01T00:00:00+00:00"
    refused(move(component_stack, key, "nope", NEW), 404, "OCCURRENCE_NOT_FOUND")
    backwards = {"starts_at": NEW.isoformat(), "ends_at": NEW.isoformat()}
    refused(
        call(
            component_stack,
            key,
            "POST",
            f"/v1/events/course/occurrences/{first['id']}/reschedule",
            json=backwards,
        ),
        422,
        "VALIDATION_ERROR",
    )
    ok(
        call(component_stack, key, "POST", f"/v1/events/course/occurrences/{first['id']}/cancel"),
        202,
    )
    refused(move(component_stack, key, first["id"], NEW), 409, "OCCURRENCE_CANCELLED")
    ok(call(component_stack, key, "POST", "/v1/events/course/cancel"), 202)
    refused(move(component_stack, key, second["id"], NEW), 409, "EVENT_CANCELLED")
    # Nothing moved on any refusal
    dates = ok(call(component_stack, key, "GET", "/v1/events/course/occurrences"))["items"]
    assert [d["sequence"] for d in dates] == [0, 0]


def test_an_ended_date_does_not_move(component_stack: Stack) -> None:
    key = component_stack.key()
    published_event(
        component_stack,
        key,
        ref="course",
        starts_at="2021-01-01T09:00:00Z",
        ends_at="2021-01-01T10:00:00Z",
    )
    date = first_date(component_stack, key)
    refused(move(component_stack, key, date["id"], NEW), 409, "OCCURRENCE_ENDED")


def test_a_run_recorded_for_the_old_time_mails_nobody_when_picked_up(
    component_stack: Stack,
) -> None:
    # Given a run recorded for the first date's old time (as a scheduler tick racing
    # the reschedule would: it read the date before the move and committed after it)
    key = component_stack.key()
    course(component_stack, key, reminder_before_minutes=1440)
    date = first_date(component_stack, key)
    with component_stack.db() as session:
        (run,) = record_due_reminders(session, now=START - timedelta(days=1), grace=timedelta(1))
        run_id = run.id
        occurrence = session.get(Occurrence, uuid.UUID(date["id"]))
        assert occurrence is not None
        occurrence.sequence = 1  # moved meanwhile; the run still pending

    # When its worker picks it up
    from rollcall.workers.actors import run_reminder

    run_reminder.send(str(run_id))
    component_stack.drain()

    # Then it is cancelled as stale and mails nobody
    with component_stack.db() as session:
        stale = session.get(ReminderRun, run_id)
        assert stale is not None and stale.state == "cancelled"
        assert stale.note and "rescheduled" in stale.note
    assert len(component_stack.sink.wait_for(3, timeout=0.5)) == 2  # the enrollment mails
