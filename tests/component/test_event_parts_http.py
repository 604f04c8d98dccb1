"""Sessions, trainers, cancellation (event and occurrence), horizon expansion and
completion, on SQLite and the StubBroker."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from rollcall.domain.clock import utcnow
from rollcall.models import EmailMessage, Event, Job, Occurrence
from rollcall.scheduler import event_producers
from tests.support.event_helpers import DAILY, call, make_attendee, ok, refused
from tests.support.factories import create_event, enroll, job, published_event
from tests.support.stack import Stack


@pytest.fixture(autouse=True)
def _long_horizon(component_stack: Stack) -> None:
    component_stack.settings.occurrence_horizon_days = 3650


def test_sessions_crud(component_stack: Stack) -> None:
    key = component_stack.key()
    create_event(component_stack, key, ref="s", recurrence=DAILY)
    occurrences = ok(call(component_stack, key, "GET", "/v1/events/s/occurrences"))["items"]

    # Create on all dates, and on specific ones
    morning = ok(
        call(
            component_stack,
            key,
            "POST",
            "/v1/events/s/sessions",
            json={"name": "Morning", "capacity": 10, "starts_at": "09:30", "duration_minutes": 45},
        ),
        201,
    )
    assert (morning["status"], morning["starts_at"], morning["occurrences"]["type"]) == (
        "active",
        "09:30",
        "all",
    )
    lab = ok(
        call(
            component_stack,
            key,
            "POST",
            "/v1/events/s/sessions",
            json={
                "name": "Lab",
                "occurrences": {"type": "specific", "ids": [occurrences[0]["id"]]},
            },
        ),
        201,
    )
    assert [s["name"] for s in ok(call(component_stack, key, "GET", "/v1/events/s/sessions"))] == [
        "Morning",
        "Lab",
    ]

    # Update
    changed = ok(
        call(
            component_stack,
            key,
            "PATCH",
            f"/v1/events/s/sessions/{lab['id']}",
            json={"status": "inactive", "capacity": 4, "occurrences": {"type": "all"}},
        )
    )
    assert (changed["status"], changed["capacity"], changed["occurrences"]["type"]) == (
        "inactive",
        4,
        "all",
    )
    assert (
        ok(call(component_stack, key, "GET", f"/v1/events/s/sessions/{lab['id']}"))["capacity"] == 4
    )

    # Errors
    other = create_event(component_stack, key, ref="other", recurrence=DAILY)
    foreign = ok(call(component_stack, key, "GET", f"/v1/events/{other['id']}/occurrences"))[
        "items"
    ][0]
    refused(
        call(
            component_stack,
            key,
            "POST",
            "/v1/events/s/sessions",
            json={"name": "X", "occurrences": {"type": "specific", "ids": [foreign["id"]]}},
        ),
        404,
        "OCCURRENCE_NOT_FOUND",
    )
    refused(
        call(component_stack, key, "GET", "/v1/events/s/sessions/nope"), 404, "SESSION_NOT_FOUND"
    )
    refused(
        call(component_stack, key, "PATCH", f"/v1/events/other/sessions/{lab['id']}", json={}),
        404,
        "SESSION_NOT_FOUND",
    )
    for body in (
        {"name": ""},
        {"name": "x", "status": "paused"},
        {"name": "x", "occurrences": {"type": "specific"}},
        {"name": "x", "capacity": -1},
    ):
        refused(
            call(component_stack, key, "POST", "/v1/events/s/sessions", json=body),
            422,
            "VALIDATION_ERROR",
        )


def test_trainers_by_ids_and_refs(component_stack: Stack) -> None:
    key = component_stack.key()
    create_event(component_stack, key, ref="t")
    tess = make_attendee(component_stack, "tess")
    make_attendee(component_stack, "tom")
    make_attendee(component_stack, "stranger", org="globex")

    added = ok(
        call(
            component_stack,
            key,
            "POST",
            "/v1/events/t/trainers",
            json={"ids": [tess], "refs": ["tom"]},
        )
    )
    assert [t["ref"] for t in added] == ["tess", "tom"]
    again = ok(call(component_stack, key, "POST", "/v1/events/t/trainers", json={"refs": ["tom"]}))
    assert len(again) == 2
    left = ok(
        call(component_stack, key, "POST", "/v1/events/t/trainers/remove", json={"ids": [tess]})
    )
    assert [t["ref"] for t in left] == ["tom"]

    # Another organisation's attendee is not found, like an unknown one
    body = refused(
        call(
            component_stack,
            key,
            "POST",
            "/v1/events/t/trainers",
            json={"refs": ["stranger", "nobody"]},
        ),
        404,
        "ATTENDEE_NOT_FOUND",
    )
    assert body["details"]["refs"] == ["nobody", "stranger"]
    refused(
        call(
            component_stack,
            key,
            "POST",
            "/v1/events/t/trainers/remove",
            json={"ids": ["not-a-uuid"]},
        ),
        422,
        "VALIDATION_ERROR",
    )


def test_cancel_event_mails_each_participant_once(component_stack: Stack) -> None:
    # Given a published event with two enrolled and one waitlisted attendee
    key = component_stack.key()
    published_event(
        component_stack, key, ref="c", max_subscriptions=2, waiting_list=True, recurrence=DAILY
    )
    for ref in ("ada", "bob", "cy"):
        enroll(component_stack, key, "c", ref)
    component_stack.drain()
    component_stack.sink.wait_for(3)
    component_stack.sink.messages.clear()

    # When the organiser cancels it
    response = call(
        component_stack, key, "POST", "/v1/events/c/cancel", json={"reason": "Trainer ill"}
    )
    accepted = ok(response, 202)
    assert response.headers["Location"] == f"/v1/jobs/{accepted['id']}"
    component_stack.drain()

    # Then each of the three gets exactly one cancellation mail
    done = job(component_stack, key, accepted["id"])
    assert done["status"] == "succeeded"
    assert (done["result"]["recipients"], done["result"]["notified"]) == (3, 3)
    mails = component_stack.sink.wait_for(3)
    assert sorted(m["To"].addresses[0].username for m in mails) == ["ada", "bob", "cy"]
    assert {m["Subject"] for m in mails} == {"Cancelled: Intro to Rollcall"}
    assert "Trainer ill" in mails[0].get_body(preferencelist=("plain",)).get_content()

    # And the same notification run again, or a second cancel, sends nothing more
    from rollcall.domain.events.jobs import NOTIFY_CANCELLATION, notify_cancellation

    with component_stack.db() as session:
        event = session.scalars(select(Event)).one()
        again = notify_cancellation(
            session, event=event, occurrence=None, reason="", now=utcnow(), job_id=None
        )
    assert again == {"recipients": 3, "notified": 0, "already_notified": 3}
    assert done["type"] == NOTIFY_CANCELLATION
    refused(
        call(component_stack, key, "POST", "/v1/events/c/cancel"), 409, "EVENT_ALREADY_CANCELLED"
    )
    component_stack.drain()
    with component_stack.db() as session:
        assert (
            session.scalar(
                select(func.count())
                .select_from(EmailMessage)
                .where(EmailMessage.template == "event_cancelled")
            )
            == 3
        )

    # And a cancelled event keeps its enrollments, takes no new ones and no changes
    shown = ok(call(component_stack, key, "GET", "/v1/events/c"))
    assert (shown["cancelled"], shown["enrolled_count"], shown["waitlisted_count"]) == (True, 2, 1)
    late = enroll(component_stack, key, "c", "dan")
    component_stack.drain()
    assert job(component_stack, key, late["id"])["errors"][0]["code"] == "EVENT_CANCELLED"
    refused(
        call(component_stack, key, "PATCH", "/v1/events/c", json={"description": "x"}),
        409,
        "EVENT_CANCELLED",
    )
    refused(call(component_stack, key, "POST", "/v1/events/c/publish"), 409, "EVENT_CANCELLED")
    refused(
        call(component_stack, key, "POST", "/v1/events/c/sessions", json={"name": "x"}),
        409,
        "EVENT_CANCELLED",
    )


def test_cancel_one_occurrence(component_stack: Stack) -> None:
    key = component_stack.key()
    published_event(component_stack, key, ref="o", recurrence=DAILY)
    enroll(component_stack, key, "o", "ada")
    component_stack.drain()
    component_stack.sink.wait_for(1)
    component_stack.sink.messages.clear()
    first, second, *_rest, last = ok(call(component_stack, key, "GET", "/v1/events/o/occurrences"))[
        "items"
    ]

    accepted = ok(
        call(component_stack, key, "POST", f"/v1/events/o/occurrences/{first['id']}/cancel"), 202
    )
    component_stack.drain()

    assert job(component_stack, key, accepted["id"])["result"]["notified"] == 1
    (mail,) = component_stack.sink.wait_for(1)
    assert mail["Subject"] == "Date cancelled: Intro to Rollcall, January 7, 2030"
    items = ok(call(component_stack, key, "GET", "/v1/events/o/occurrences"))["items"]
    assert [o["cancelled"] for o in items] == [True, False, False, False, False]
    # The event now starts at its first live occurrence
    assert (
        ok(call(component_stack, key, "GET", "/v1/events/o"))["starts_at"]["utc"]
        == second["starts_at"]["utc"]
    )
    refused(
        call(component_stack, key, "POST", f"/v1/events/o/occurrences/{first['id']}/cancel"),
        409,
        "OCCURRENCE_ALREADY_CANCELLED",
    )
    refused(
        call(component_stack, key, "POST", "/v1/events/o/occurrences/nope/cancel"),
        404,
        "OCCURRENCE_NOT_FOUND",
    )
    assert last["cancelled"] is False


def test_cancel_an_ended_occurrence_is_refused(component_stack: Stack) -> None:
    key = component_stack.key()
    published_event(
        component_stack,
        key,
        ref="past",
        starts_at="2020-01-01T09:00:00Z",
        ends_at="2020-01-01T10:00:00Z",
    )
    (only,) = ok(call(component_stack, key, "GET", "/v1/events/past/occurrences"))["items"]
    refused(
        call(component_stack, key, "POST", f"/v1/events/past/occurrences/{only['id']}/cancel"),
        409,
        "OCCURRENCE_ENDED",
    )


def test_horizon_expansion_is_idempotent(component_stack: Stack) -> None:
    # Given an endless daily event expanded over a 30-day horizon
    component_stack.settings.occurrence_horizon_days = 30
    key = component_stack.key()
    start = (utcnow() + timedelta(days=1)).strftime("%Y-%m-%dT09:00:00")
    create_event(
        component_stack,
        key,
        ref="endless",
        timezone="UTC",
        recurrence={"type": "daily", "starts_on": start},
    )

    def count() -> int:
        with component_stack.db() as session:
            return int(session.scalar(select(func.count()).select_from(Occurrence)) or 0)

    before = count()
    assert 29 <= before <= 31

    # When the scheduler plans expansion twice in the same tick, 40 days later
    later = utcnow() + timedelta(days=40)
    assert event_producers.plan_expansion(component_stack.settings, later) == 1
    assert event_producers.plan_expansion(component_stack.settings, later) == 0
    component_stack.drain()

    # Then one job ran and the horizon moved 40 days, each date once
    after = count()
    # 40 days later, give or take the one start the hour-aligned tick may cut off
    assert 39 <= after - before <= 40
    with component_stack.db() as session:
        (expansion,) = session.scalars(select(Job).where(Job.type == "expand_occurrences")).all()
        assert expansion.status == "succeeded"
        starts = session.scalars(select(Occurrence.starts_at)).all()
    assert len(set(starts)) == len(starts)

    # And the same expansion job applied again would create nothing
    from rollcall.domain.events.jobs import apply_expand_occurrences

    with component_stack.db() as session:
        (expansion,) = session.scalars(select(Job).where(Job.type == "expand_occurrences")).all()
        assert apply_expand_occurrences(session, expansion, later)["occurrences_created"] == 0


def test_events_complete_after_their_last_occurrence(component_stack: Stack) -> None:
    key = component_stack.key()
    published_event(
        component_stack,
        key,
        ref="done",
        starts_at="2020-01-01T09:00:00Z",
        ends_at="2020-01-01T10:00:00Z",
    )
    published_event(component_stack, key, ref="rule", recurrence=DAILY)
    published_event(
        component_stack, key, ref="endless", recurrence=DAILY | {"ends": {"type": "never"}}
    )
    create_event(
        component_stack,
        key,
        ref="draft",
        starts_at="2020-01-01T09:00:00Z",
        ends_at="2020-01-01T10:00:00Z",
    )

    assert event_producers.plan_completion(component_stack.settings, utcnow()) == 1
    component_stack.drain()
    status = {
        ref: ok(call(component_stack, key, "GET", f"/v1/events/{ref}"))["status"]
        for ref in ("done", "rule", "endless", "draft")
    }
    assert status == {
        "done": "completed",
        "rule": "published",
        "endless": "published",
        "draft": "draft",
    }

    # Years later the finite rule completes too; the endless one never does
    from datetime import UTC, datetime

    assert (
        event_producers.plan_completion(component_stack.settings, datetime(2031, 1, 1, tzinfo=UTC))
        == 1
    )
    component_stack.drain()
    assert ok(call(component_stack, key, "GET", "/v1/events/rule"))["status"] == "completed"
    assert ok(call(component_stack, key, "GET", "/v1/events/endless"))["status"] == "published"

    # A completed event refuses every change
    refused(
        call(component_stack, key, "PATCH", "/v1/events/done", json={"description": "x"}),
        409,
        "EVENT_COMPLETED",
    )
    refused(call(component_stack, key, "POST", "/v1/events/done/unpublish"), 409, "EVENT_COMPLETED")
    refused(call(component_stack, key, "POST", "/v1/events/done/cancel"), 409, "EVENT_COMPLETED")
    refused(call(component_stack, key, "DELETE", "/v1/events/done"), 409, "EVENT_COMPLETED")
    refused(
        call(component_stack, key, "POST", "/v1/events/done/trainers", json={}),
        409,
        "EVENT_COMPLETED",
    )
