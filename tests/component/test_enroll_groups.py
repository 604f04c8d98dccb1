"""Single enroll jobs applied in groups (domain.enrollment.group): one message
applies the event's queued jobs in arrival order, each job keeps its own
outcome, a refusal or a crash stays with its job. On SQLite here; on PostgreSQL
in tests/integration/test_enroll_groups_postgres.py."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from rollcall.domain.access.keys import get_or_create_organisation
from rollcall.domain.calendar.cache import expected_snapshot, snapshot
from rollcall.domain.enrollment.placement_mails import (
    PLACEMENT_MAILS_ACTOR,
    prepare_placement_mails,
)
from rollcall.domain.enrollment.waitlist import waitlist_position
from rollcall.domain.events.catalog import create_event, publish_event
from rollcall.domain.jobs.engine import apply_job
from rollcall.models import (
    CalendarBookmark,
    CalendarEntry,
    EmailMessage,
    Enrollment,
    EventSession,
    Occurrence,
    OutboxMessage,
)
from rollcall.models.db import transaction
from tests.support.calendar import add_attendee
from tests.support.enroll_groups import (
    T0,
    crash_in_the_middle,
    database,
    jobs,
    new_event,
    submit,
)

db = database("sqlite")


def test_one_message_applies_the_events_queued_jobs_in_arrival_order(
    db: sessionmaker[Session],
) -> None:
    # Given 6 queued enroll jobs for an event of 3 seats with a waiting list
    org, event = new_event(db, seats=3)
    ids = submit(db, org, event, ["ada", "bob", "cy", "dee", "eve", "fay"])

    # When the worker takes the message of the fourth job
    outbox = apply_job(db, ids[3], now=lambda: T0 + timedelta(minutes=1))

    # Then all six are applied at once: seats to the first three by arrival,
    # the rest waitlisted 1, 2, 3, each job with its own enrollment
    done = jobs(db, ids)
    assert {job.status for job in done} == {"succeeded"}
    assert [job.result["status"] for job in done if job.result] == ["enrolled"] * 3 + [
        "waitlisted"
    ] * 3
    assert [job.result["waitlist_position"] for job in done if job.result] == [
        None,
        None,
        None,
        1,
        2,
        3,
    ]
    assert len({job.result["enrollment_id"] for job in done if job.result}) == 6
    assert all(job.attempts == 1 and job.finished_at for job in done)
    with db() as session:
        by_id = {e.id: e for e in session.scalars(select(Enrollment))}
        for job in done:
            assert job.result is not None
            enrollment = by_id[uuid.UUID(job.result["enrollment_id"])]
            assert enrollment.job_id == job.id and enrollment.requested_at == job.created_at
            assert waitlist_position(session, enrollment) == job.result["waitlist_position"]
        # one message names the six placements (their mails are the mail
        # worker's to write); the cache has the six attendees' rows
        (message,) = session.scalars(
            select(OutboxMessage).where(OutboxMessage.id.in_([row.id for row in outbox]))
        )
        assert message.actor == PLACEMENT_MAILS_ACTOR
        items = message.args[0]
        assert message.args[0] == [
            [job.result["enrollment_id"], job.result["status"], job.result["waitlist_position"]]
            for job in done
            if job.result
        ]
        assert session.scalars(select(EmailMessage)).all() == []
        conn = session.connection()
        assert len(snapshot(conn)) == 6 + 1  # six personal rows and the public one
        assert snapshot(conn) == expected_snapshot(conn)

    # And the other jobs' own messages change nothing
    for job_id in ids:
        assert apply_job(db, job_id, now=lambda: T0) == []
    assert [job.finished_at for job in jobs(db, ids)] == [job.finished_at for job in done]

    # And the mail worker writes the six mails once: each its job's, with the
    # place the job reported
    for _delivery in range(2):
        with transaction(db) as session:
            keys = prepare_placement_mails(session, items, now=T0)
    with db() as session:
        mails = session.scalars(select(EmailMessage)).all()
    assert sorted(keys) == sorted(mail.dedupe_key for mail in mails) and len(mails) == 6
    by_job = {mail.job_id: mail for mail in mails}
    for job in done:
        assert job.result is not None
        mail = by_job[job.id]
        assert mail.context["enrollment"]["id"] == job.result["enrollment_id"]
        assert (
            mail.context["enrollment"].get("waitlist_position") == (job.result["waitlist_position"])
        )
        assert (
            mail.template
            == f"enrollment_{'confirmed' if job.result['status'] == 'enrolled' else 'waitlisted'}"
        )


def test_refusals_stay_with_their_jobs(db: sessionmaker[Session]) -> None:
    # Given ada already enrolled; then jobs for ada again, a bad occurrence,
    # bob twice, and cy
    org, event = new_event(db, seats=5)
    first = submit(db, org, event, ["ada"])
    apply_job(db, first[0], now=lambda: T0)
    later = T0 + timedelta(minutes=1)
    again = submit(db, org, event, ["ada", "bob", "bob", "cy"], at=later)
    wrong = submit(db, org, event, ["dee"], at=later + timedelta(minutes=1), occurrence_id="x")

    # When the messages are handled in order
    for job_id in [*again, *wrong]:
        apply_job(db, job_id, now=lambda: later + timedelta(minutes=5))

    # Then each refusal fails only its own job, with its own code
    outcome = [
        (job.status, job.errors[0]["code"] if job.errors else None)
        for job in jobs(db, again + wrong)
    ]
    assert outcome == [
        ("failed", "ALREADY_ENROLLED"),
        ("succeeded", None),
        ("failed", "ALREADY_ENROLLED"),  # bob's second job, applied by its own message
        ("succeeded", None),
        ("failed", "EVENT_NOT_BOOKED_PER_DATE"),
    ]
    with db() as session:
        assert len(session.scalars(select(Enrollment)).all()) == 3


def test_a_job_that_crashes_the_group_fails_alone(
    db: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given three queued jobs, the middle one crashing whatever applies it,
    # when each message is handled in turn
    ids = crash_in_the_middle(db, monkeypatch, seats=5, order=(0, 1, 2), now=T0)

    # Then the good jobs succeeded; the bad one, tried in ada's group and by
    # its own message, is left for Dramatiq's retry
    ada, bad, cy = jobs(db, ids)
    assert (ada.status, cy.status) == ("succeeded", "succeeded")
    assert (bad.status, bad.attempts) == ("running", 2)


def test_a_late_request_is_ranked_by_arrival_not_by_application(
    db: sessionmaker[Session],
) -> None:
    # Given a full event where bob's request (accepted at 10:00) is applied first
    org, event = new_event(db, seats=1)
    seat = submit(db, org, event, ["ada"], at=T0)
    apply_job(db, seat[0], now=lambda: T0)
    bob = submit(db, org, event, ["bob"], at=T0 + timedelta(hours=1))
    apply_job(db, bob[0], now=lambda: T0 + timedelta(hours=2))

    # When cy's request, accepted earlier (9:30) but delayed, is applied after it
    cy = submit(db, org, event, ["cy"], at=T0 + timedelta(minutes=30))
    apply_job(db, cy[0], now=lambda: T0 + timedelta(hours=2))

    # Then cy is first in line, and bob second
    (cy_job,) = jobs(db, cy)
    assert cy_job.result is not None and cy_job.result["waitlist_position"] == 1
    with db() as session:
        waiting = session.scalars(select(Enrollment).where(Enrollment.status == "waitlisted")).all()
        places = {e.job_id: waitlist_position(session, e) for e in waiting}
    assert places == {cy[0]: 1, bob[0]: 2}


def test_a_session_enrollment_in_a_group_puts_the_sessions_dates_in_the_calendar(
    db: sessionmaker[Session],
) -> None:
    # Given an event of three dates, a session on the first two, and ada, who
    # bookmarked the third date before she enrolled
    starts = [T0 + timedelta(days=30 + day) for day in range(3)]
    with transaction(db) as session:
        org = get_or_create_organisation(session, name="acme", now=T0)
        made = create_event(
            session,
            organisation_id=org.id,
            fields={"name": "Parts", "max_subscriptions": 10, "waiting_list": True},
            dates=[(at, at + timedelta(hours=1)) for at in starts],
            now=T0,
        )
        publish_event(session, event=made, now=T0)
        session.flush()
        dates = {o.starts_at: o.id for o in session.scalars(select(Occurrence))}
        part = EventSession(
            event_id=made.id,
            name="First two",
            created_at=T0,
            enrolled_count=0,
            waitlisted_count=0,
            occurrence_ids=[str(dates[at]) for at in starts[:2]],
        )
        ada = add_attendee(session, org.id, "ada")
        session.add_all(
            [
                part,
                CalendarBookmark(
                    attendee_id=ada.id,
                    occurrence_id=dates[starts[2]],
                    event_id=made.id,
                    created_at=T0,
                ),
            ]
        )
        session.flush()
        org_id, event_id, session_id, ada_id = org.id, made.id, part.id, ada.id

    # When her enroll job into the session is applied by a group
    (job_id,) = submit(db, org_id, event_id, ["ada"], session_id=str(session_id))
    apply_job(db, job_id, now=lambda: T0 + timedelta(minutes=1))

    # Then her calendar has the session's two dates as enrolled, the third as
    # bookmarked only: the cache equals a rebuild
    (done,) = jobs(db, [job_id])
    assert done.status == "succeeded", done.errors
    with db() as session:
        mine = session.scalars(
            select(CalendarEntry).where(CalendarEntry.attendee_id == ada_id)
        ).all()
        by_start = {entry.starts_at: entry for entry in mine}
        assert sorted(by_start) == starts
        assert [by_start[at].enrollment_status for at in starts] == ["enrolled", "enrolled", None]
        assert [by_start[at].bookmarked for at in starts] == [False, False, True]
        conn = session.connection()
        assert snapshot(conn) == expected_snapshot(conn)
