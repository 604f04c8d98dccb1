"""Bulk enrollment: JSON and CSV, atomic and not, per-row errors, progress,
and exactly-once when a worker dies between chunks."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select, update

from rollcall.domain.calendar.cache import expected_snapshot, snapshot
from rollcall.domain.clock import utcnow
from rollcall.domain.enrollment.bulk.run import MAX_ROWS, run_chunk
from rollcall.messaging.outbox import relay
from rollcall.models import (
    Attendee,
    CalendarEntry,
    EmailMessage,
    Enrollment,
    Job,
    OutboxMessage,
    Payment,
)
from tests.support.enrollment import person, statuses
from tests.support.factories import enroll, job, published_event
from tests.support.stack import Stack


def post_bulk(stack: Stack, key: str, event: str, **kwargs: Any) -> dict[str, Any]:
    headers = stack.auth(key) | kwargs.pop("headers", {})
    response = stack.client.post(f"/v1/events/{event}/enrollments/bulk", headers=headers, **kwargs)
    assert response.status_code == 202, response.text
    return dict(response.json())


def counts(stack: Stack) -> dict[str, int]:
    with stack.db() as session:
        return {
            model.__tablename__: int(session.scalar(select(func.count()).select_from(model)) or 0)
            for model in (Attendee, Enrollment, Payment, EmailMessage, OutboxMessage)
        }


def test_non_atomic_reports_each_failing_row(component_stack: Stack) -> None:
    # Given an event of 3 seats without waiting list, ada already enrolled
    key = component_stack.key()
    published_event(component_stack, key, ref="ev", max_subscriptions=3)
    enroll(component_stack, key, "ev", "ada")
    component_stack.drain()

    # When six rows arrive: ok, already enrolled, bad email, ok, duplicate, no seat left
    rows = [person("bob"), person("ada"), {"ref": "eve", "email": "nope"}, person("cy")]
    rows += [person("bob"), person("dan")]
    accepted = post_bulk(component_stack, key, "ev", json={"atomic": False, "attendees": rows})
    component_stack.drain()

    # Then the job partially succeeded with one error per failing row, in row order
    done = job(component_stack, key, accepted["id"])
    assert done["status"] == "partially_succeeded"
    assert done["progress"] == {"done": 6, "total": 6}
    assert [(e["row"], e["attendee_ref"], e["code"]) for e in done["errors"]] == [
        (2, "ada", "ALREADY_ENROLLED"),
        (3, "eve", "VALIDATION_ERROR"),
        (5, "bob", "DUPLICATE_ROW"),
        (6, "dan", "EVENT_FULL"),
    ]
    assert all(e["message"] for e in done["errors"])
    assert (done["result"]["enrolled"], done["result"]["failed"]) == (2, 4)
    assert statuses(component_stack) == {"ada": "enrolled", "bob": "enrolled", "cy": "enrolled"}
    assert len(component_stack.sink.wait_for(3)) == 3


def test_atomic_with_a_bad_row_leaves_nothing_and_mails_nobody(component_stack: Stack) -> None:
    key = component_stack.key()
    published_event(component_stack, key, ref="ev", max_subscriptions=100)
    enroll(component_stack, key, "ev", "ada")
    component_stack.drain()
    before = counts(component_stack)

    rows = [person(f"p{i}") for i in range(20)]
    rows.insert(10, person("ada"))  # already enrolled: the bad row in the middle
    accepted = post_bulk(component_stack, key, "ev", json={"atomic": True, "attendees": rows})
    component_stack.drain()

    done = job(component_stack, key, accepted["id"])
    assert done["status"] == "failed"
    assert done["errors"] == [
        {
            "row": 11,
            "attendee_ref": "ada",
            "code": "ALREADY_ENROLLED",
            "message": "The attendee is already enrolled or waitlisted.",
        }
    ]
    # (the one new outbox row is the job's own message, written by intake)
    assert counts(component_stack) == before | {"outbox": before["outbox"] + 1}
    assert len(component_stack.sink.wait_for(1, timeout=1)) == 1  # ada's own confirmation only


def test_atomic_csv_upload_waitlists_beyond_capacity(component_stack: Stack) -> None:
    key = component_stack.key()
    published_event(component_stack, key, ref="ev", max_subscriptions=2, waiting_list=True)
    csv_text = "ref,email,name,phone\n" + "".join(
        f"r{i},r{i}@example.org,R {i},555\n" for i in range(4)
    )

    accepted = post_bulk(
        component_stack,
        key,
        "ev",
        files={"file": ("roster.csv", csv_text, "text/csv")},
        data={"atomic": "true"},
    )
    component_stack.drain()

    done = job(component_stack, key, accepted["id"])
    assert done["status"] == "succeeded"
    assert (done["result"]["enrolled"], done["result"]["waitlisted"]) == (2, 2)
    listed = component_stack.client.get(
        "/v1/events/ev/enrollments?status=waitlisted", headers=component_stack.auth(key)
    ).json()["items"]
    assert [(i["attendee_ref"], i["waitlist_position"]) for i in listed] == [("r2", 1), ("r3", 2)]


def test_plain_csv_body_and_input_errors(component_stack: Stack) -> None:
    key = component_stack.key()
    published_event(component_stack, key, ref="ev")
    body = "ref,email\nada,ada@example.org\n"
    accepted = post_bulk(
        component_stack,
        key,
        "ev",
        params={"atomic": "false"},
        content=body,
        headers={"Content-Type": "text/csv"},
    )
    component_stack.drain()
    assert job(component_stack, key, accepted["id"])["status"] == "succeeded"

    def refused(**kwargs: Any) -> tuple[int, str]:
        response = component_stack.client.post(
            "/v1/events/ev/enrollments/bulk", headers=component_stack.auth(key), **kwargs
        )
        return response.status_code, response.json()["error"]["code"]

    assert refused(json={"attendees": []}) == (422, "VALIDATION_ERROR")
    assert refused(json=["not", "an", "object"]) == (422, "VALIDATION_ERROR")
    assert refused(json={"attendees": ["x"]}) == (422, "VALIDATION_ERROR")
    assert refused(files={"file": ("r.csv", "email\na@x.org\n", "text/csv")}) == (
        422,
        "VALIDATION_ERROR",
    )
    schema = component_stack.client.get("/openapi.json")
    assert schema.status_code == 200
    assert "/v1/events/{event_id}/enrollments/bulk" in schema.json()["paths"]
    assert refused(content=b"{not json") == (422, "VALIDATION_ERROR")
    too_many = [person(f"p{i}") for i in range(MAX_ROWS + 1)]
    assert refused(json={"attendees": too_many}) == (422, "BULK_TOO_LARGE")


def test_non_atomic_resumes_after_a_crash_between_chunks(
    component_stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a bulk job of 7 rows in chunks of 3, whose message is not sent yet
    monkeypatch.setattr("rollcall.domain.enrollment.bulk.run.CHUNK_ROWS", 3)
    component_stack.settings.enqueue_on_commit = False
    key = component_stack.key()
    published_event(component_stack, key, ref="ev", max_subscriptions=100)
    rows = [person(f"p{i}") for i in range(7)]
    accepted = post_bulk(component_stack, key, "ev", json={"atomic": False, "attendees": rows})
    job_id = uuid.UUID(accepted["id"])

    # When a first worker applies one chunk and dies (its commit is what survives)
    with component_stack.db() as session:
        session.execute(update(Job).where(Job.id == job_id).values(status="running"))
        payload = session.get_one(Job, job_id).payload
    finished, _ids = run_chunk(component_stack.sessions, job_id, now=utcnow, payload=payload)
    assert not finished
    assert job(component_stack, key, str(job_id))["progress"] == {"done": 3, "total": 7}

    # And the message is then delivered (twice, for good measure)
    from rollcall.workers.actors import process_job

    process_job.send(str(job_id))
    component_stack.drain()
    process_job.send(str(job_id))
    component_stack.drain()

    # Then every row was applied exactly once
    done = job(component_stack, key, str(job_id))
    assert (done["status"], done["progress"]) == ("succeeded", {"done": 7, "total": 7})
    assert done["result"]["enrolled"] == 7
    assert counts(component_stack)["enrollments"] == 7

    # And the dead worker's chunk mails too, once the scheduler's relay hands
    # its committed outbox message over: each of the seven gets one mail
    assert counts(component_stack)["email_messages"] == 4
    relay(component_stack.sessions, component_stack.broker, now=utcnow(), older_than_seconds=0)
    component_stack.drain()
    assert counts(component_stack)["email_messages"] == 7
    received = component_stack.sink.wait_for(7, timeout=10)
    assert sorted(m["To"] for m in received) == sorted(
        f"{row['name']} <{row['email']}>" for row in rows
    )


@pytest.mark.parametrize("atomic", [True, False])
def test_a_refused_event_fails_the_job_with_one_error(component_stack: Stack, atomic: bool) -> None:
    from tests.support.factories import create_event

    key = component_stack.key()
    create_event(component_stack, key, ref="draft")
    rows = [person(f"p{i}") for i in range(5)]
    accepted = post_bulk(component_stack, key, "draft", json={"atomic": atomic, "attendees": rows})
    component_stack.drain()
    done = job(component_stack, key, accepted["id"])
    assert done["status"] == "failed"
    assert [e["code"] for e in done["errors"]] == ["EVENT_NOT_PUBLISHED"]
    assert counts(component_stack)["enrollments"] == 0


def test_bulk_enrollment_fills_the_calendar_cache_and_mails_everyone(
    component_stack: Stack,
) -> None:
    # Given a dated event with 3 seats and a waiting list
    key = component_stack.key()
    published_event(
        component_stack,
        key,
        ref="dated",
        max_subscriptions=3,
        waiting_list=True,
        starts_at="2031-03-01T09:00:00+01:00",
        ends_at="2031-03-01T12:00:00+01:00",
    )

    # When five people are bulk enrolled
    rows = [person(f"p{i}") for i in range(5)]
    accepted = post_bulk(component_stack, key, "dated", json={"atomic": True, "attendees": rows})
    component_stack.drain()

    # Then each has a calendar row at once (what a rebuild would write), and
    # each got their own mail, sent from one message over one connection
    assert job(component_stack, key, accepted["id"])["status"] == "succeeded"
    with component_stack.db() as session:
        conn = session.connection()
        personal = [row for row in snapshot(conn) if row[_ATTENDEE] is not None]
        assert len(personal) == 5
        assert snapshot(conn) == expected_snapshot(conn)
        outbox = session.scalars(select(OutboxMessage.actor)).all()
    assert outbox.count("send_placement_mails") == 1
    received = component_stack.sink.wait_for(5, timeout=10)
    assert sorted(m["To"] for m in received) == [f"P{i} <p{i}@example.org>" for i in range(5)]


_ATTENDEE = [c.name for c in CalendarEntry.__table__.columns if c.name != "id"].index("attendee_id")
