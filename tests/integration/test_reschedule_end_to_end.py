"""Changing a published event with notice, on real parts: PostgreSQL, Redis, a
real Dramatiq worker process (``dramatiq rollcall.workers.actors``), uvicorn
over HTTP and the SMTP sink.

A date is moved while its "before" reminder run is recorded but not yet sent:
the capacity still holds, the old run is cancelled (its redelivered message
mails nobody), exactly one new reminder goes out at the new moment, one change
mail reaches each attendee and the trainer, and the iCal feed (parsed back
with ``icalendar``) shows the new time with a higher SEQUENCE. Then the place
changes: one more mail each, and LOCATION / GEO / SEQUENCE follow.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from icalendar import Calendar
from sqlalchemy import select

from rollcall.domain.clock import utcnow
from rollcall.domain.reminders.runs import record_due_reminders
from rollcall.models import Enrollment, Event, Occurrence, ReminderRun
from rollcall.scheduler.reminder_producers import produce_reminders
from tests.support.event_helpers import call, make_attendee, ok
from tests.support.factories import enroll, job, published_event
from tests.support.faults import wait_until
from tests.support.services import stop_process_group
from tests.support.stack import Stack

VENUE = {"name": "De Balie", "latitude": 52.3637, "longitude": 4.8836}
NEW_VENUE = {
    "name": "Pakhuis de Zwijger",
    "latitude": 52.3766,
    "longitude": 4.9224,
    "address": {"address_line1": "Piet Heinkade 179", "city": "Amsterdam", "post_code": "1019 HC"},
}


@pytest.fixture
def worker_process(real_stack: Stack, tmp_path: Path) -> Iterator[Path]:
    """A real `dramatiq` worker process in place of the in-process worker."""
    real_stack.stop()
    log = tmp_path / "worker.log"
    env = os.environ | {
        "DATABASE_URL": real_stack.settings.database_url,
        "REDIS_URL": real_stack.settings.redis_url,
        "REDIS_NAMESPACE": real_stack.settings.redis_namespace,
        "SMTP_URL": real_stack.settings.smtp_url,
        "LOG_JSON": "false",
    }
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "dramatiq", "rollcall.workers.actors", "-p", "1", "-t", "4"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    yield log
    stop_process_group(process)


def mails_to(stack: Stack, prefix: str) -> Counter[str]:
    return Counter(
        m["To"].addresses[0].username
        for m in stack.sink.messages
        if m["Subject"].startswith(prefix)
    )


def feed(stack: Stack, token: str) -> dict[str, Any]:
    response = stack.client.get(
        "/v1/calendar.ics", params={"token": token, "fromDate": "2026-01-01"}
    )
    assert response.status_code == 200, response.text
    return {str(v["UID"]): v for v in Calendar.from_ical(response.content).walk("VEVENT")}


def test_a_moved_date_and_a_new_place_on_postgres(real_stack: Stack, worker_process: Path) -> None:
    # Given a published course on PostgreSQL: two dates, 2 seats, a waiting list,
    # a reminder 60 minutes before; Ada and Bob enrolled, Cy waitlisted, Tess training
    key = real_stack.key()
    start = (utcnow() + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    new_start = start + timedelta(days=7, hours=2)
    published_event(
        real_stack,
        key,
        ref="course",
        timezone="Europe/Amsterdam",
        max_subscriptions=2,
        waiting_list=True,
        reminder_before_minutes=60,
        venue=VENUE,
        dates=[
            {"starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=2)).isoformat()},
            {
                "starts_at": (start + timedelta(days=1)).isoformat(),
                "ends_at": (start + timedelta(days=1, hours=2)).isoformat(),
            },
        ],
    )
    for ref in ("ada", "bob", "cy"):
        enroll(real_stack, key, "course", ref)
    make_attendee(real_stack, "tess")
    ok(call(real_stack, key, "POST", "/v1/events/course/trainers", json={"refs": ["tess"]}))
    wait_until(lambda: len(real_stack.sink.messages) >= 3, timeout=60, what="enrollment mails")
    token = ok(call(real_stack, key, "POST", "/v1/attendees/ada/tokens"), 201)["token"]
    first, second = ok(call(real_stack, key, "GET", "/v1/events/course/occurrences"))["items"]
    # ... and the first date's "before" run recorded at its moment, not yet sent
    old_moment = start - timedelta(minutes=60)
    with real_stack.db() as session:
        (old_run,) = record_due_reminders(session, now=old_moment, grace=timedelta(minutes=5))
        old_run_id = old_run.id

    # When the first date moves a week later (a notice is the default)
    moved = ok(
        call(
            real_stack,
            key,
            "POST",
            f"/v1/events/course/occurrences/{first['id']}/reschedule",
            json={
                "starts_at": new_start.isoformat(),
                "ends_at": (new_start + timedelta(hours=2)).isoformat(),
            },
        )
    )
    notice = moved["notification_job"]["id"]
    wait_until(
        lambda: job(real_stack, key, notice)["status"] == "succeeded",
        timeout=60,
        what="the notice job",
    )
    wait_until(
        lambda: sum(mails_to(real_stack, "Changed:").values()) >= 4,
        timeout=60,
        what="four change mails",
    )

    # Then each attendee and the trainer got ONE change mail with an updated .ics
    assert mails_to(real_stack, "Changed:") == {"ada": 1, "bob": 1, "cy": 1, "tess": 1}
    assert job(real_stack, key, notice)["result"]["notified"] == 4
    changed = next(m for m in real_stack.sink.messages if m["Subject"].startswith("Changed:"))
    (part,) = list(changed.iter_attachments())
    (vevent,) = Calendar.from_ical(part.get_content()).walk("VEVENT")
    assert (str(vevent["UID"]), vevent["SEQUENCE"]) == (f"{first['id']}@rollcall", 1)
    assert vevent.decoded("DTSTART") == new_start

    # And the capacity holds: the same seats, and a newcomer still waits
    with real_stack.db() as session:
        event = session.scalars(select(Event)).one()
        assert (event.enrolled_count, event.waitlisted_count) == (2, 1)
        statuses = Counter(session.scalars(select(Enrollment.status)))
        assert statuses == {"enrolled": 2, "waitlisted": 1}
        occurrence = session.get(Occurrence, uuid.UUID(first["id"]))
        assert occurrence is not None and occurrence.starts_at == new_start
    newcomer = enroll(real_stack, key, "course", "dee")
    wait_until(
        lambda: job(real_stack, key, newcomer["id"])["status"] == "succeeded",
        timeout=60,
        what="the newcomer's job",
    )
    assert job(real_stack, key, newcomer["id"])["result"]["status"] == "waitlisted"

    # And the old reminder run is cancelled; its message, delivered again, mails nobody
    from rollcall.workers.actors import run_reminder

    run_reminder.send(str(old_run_id))
    with real_stack.db() as session:
        old = session.get(ReminderRun, old_run_id)
        assert old is not None and old.state == "cancelled"
    assert produce_reminders(real_stack.settings, now=old_moment) == 0
    # ... and exactly one new reminder goes out at the new moment, to the two enrolled
    new_moment = new_start - timedelta(minutes=60)
    assert produce_reminders(real_stack.settings, now=new_moment) >= 1
    assert produce_reminders(real_stack.settings, now=new_moment) == 0
    wait_until(
        lambda: sum(mails_to(real_stack, "Reminder").values()) >= 2,
        timeout=60,
        what="the new reminders",
    )

    def first_date_runs() -> list[tuple[str, str]]:
        with real_stack.db() as session:
            rows = session.execute(
                select(ReminderRun.run_key, ReminderRun.state).where(
                    ReminderRun.occurrence_id == uuid.UUID(first["id"])
                )
            ).all()
        return sorted((str(k), str(s)) for k, s in rows)

    wait_until(
        lambda: first_date_runs() == [("before", "cancelled"), ("before#1", "done")],
        timeout=60,
        what="the old run cancelled and the new one done",
    )

    # And the attendee's iCal feed shows the new time, SEQUENCE 1, the other date untouched
    entries = feed(real_stack, token)
    moved_entry, other = entries[f"{first['id']}@rollcall"], entries[f"{second['id']}@rollcall"]
    assert moved_entry.decoded("DTSTART") == new_start and moved_entry["SEQUENCE"] == 1
    assert other["SEQUENCE"] == 0
    assert str(moved_entry["LOCATION"]) == "De Balie"

    # When the place changes too
    ok(call(real_stack, key, "PATCH", "/v1/events/course", json={"venue": NEW_VENUE}))
    wait_until(
        lambda: sum(mails_to(real_stack, "Changed:").values()) >= 9,
        timeout=60,
        what="the place change mails",
    )

    # Then one more mail each (Dee, waitlisted since, too), and the feed follows
    assert mails_to(real_stack, "Changed:") == {"ada": 2, "bob": 2, "cy": 2, "tess": 2, "dee": 1}
    entries = feed(real_stack, token)
    moved_entry, other = entries[f"{first['id']}@rollcall"], entries[f"{second['id']}@rollcall"]
    where = "Pakhuis de Zwijger, Piet Heinkade 179, 1019 HC Amsterdam"
    assert str(moved_entry["LOCATION"]) == str(other["LOCATION"]) == where
    assert (other["GEO"].latitude, other["GEO"].longitude) == (52.3766, 4.9224)
    assert (moved_entry["SEQUENCE"], other["SEQUENCE"]) == (2, 1)
    # And nothing else arrives: no second reminder, no second notice
    assert len(real_stack.sink.wait_for(len(real_stack.sink.messages) + 1, timeout=2)) == len(
        real_stack.sink.messages
    )
    assert mails_to(real_stack, "Reminder") == {"ada": 1, "bob": 1}
