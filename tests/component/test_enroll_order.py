"""The line's order in enroll groups (domain.enrollment.group): whichever
message a worker takes first, and whatever fails, seats and waiting-list places
go in acceptance order; and a job's result tells the place as it is now. On
SQLite here; on PostgreSQL in tests/integration/test_enroll_groups_postgres.py.

The races between workers themselves are in tests/integration/test_fair_line.py.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from rollcall.domain.jobs.engine import apply_job
from rollcall.models import Enrollment, EventSession, Job
from rollcall.models.db import transaction
from tests.support.enroll_groups import (
    T0,
    crash_in_the_middle,
    database,
    jobs,
    new_event,
    submit,
)
from tests.support.factories import enroll, job, published_event
from tests.support.stack import Stack

db = database("sqlite")

LATER = T0 + timedelta(hours=1)


def seated_and_waiting(
    db: sessionmaker[Session], ids: list[uuid.UUID]
) -> tuple[list[uuid.UUID | None], list[uuid.UUID | None]]:
    """(jobs whose enrollment holds a seat, in acceptance order; jobs waiting,
    in waiting-list order)."""
    with db() as session:
        rows = session.scalars(
            select(Enrollment)
            .where(Enrollment.job_id.in_(ids))
            .order_by(Enrollment.requested_at, Enrollment.request_seq, Enrollment.id)
        ).all()
    seated = [e.job_id for e in rows if e.status == "enrolled"]
    return sorted(seated, key=lambda j: ids.index(j) if j else -1), [
        e.job_id for e in rows if e.status == "waitlisted"
    ]


def add_session(db: sessionmaker[Session], event: uuid.UUID, capacity: int | None) -> str:
    with transaction(db) as session:
        part = EventSession(
            event_id=event,
            name="Part",
            capacity=capacity,
            status="active",
            enrolled_count=0,
            waitlisted_count=0,
            created_at=T0,
        )
        session.add(part)
        session.flush()
        return str(part.id)


def test_a_young_jobs_message_applies_the_older_groups_first(
    db: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given five queued jobs for two seats, and groups of at most two jobs
    monkeypatch.setattr("rollcall.domain.enrollment.group_line.GROUP_MAX", 2)
    org, event = new_event(db, seats=2)
    ids = submit(db, org, event, ["ada", "bob", "cy", "dee", "eve"])

    # When the messages are taken youngest first
    for job_id in reversed(ids):
        apply_job(db, job_id, now=lambda: LATER)

    # Then the first message applied every job, group after group, in
    # acceptance order: the seats are the two oldest requests', the rest wait
    # in line
    assert {j.status for j in jobs(db, ids)} == {"succeeded"}
    assert seated_and_waiting(db, ids) == (ids[:2], ids[2:])
    assert [j.result["waitlist_position"] for j in jobs(db, ids) if j.result] == [
        None,
        None,
        1,
        2,
        3,
    ]


def test_a_crash_in_the_group_keeps_everyone_elses_turn(
    db: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given one seat, and three queued jobs whose middle one crashes, when
    # the messages are taken youngest first
    ids = crash_in_the_middle(db, monkeypatch, seats=1, order=(2, 1, 0), now=LATER)

    # Then the seat is still ada's, who asked first, and cy waits first in
    # line; the bad job alone is left to its message's retry
    ada, bad, cy = jobs(db, ids)
    assert (ada.status, bad.status, cy.status) == ("succeeded", "running", "succeeded")
    assert seated_and_waiting(db, ids) == ([ids[0]], [ids[2]])
    assert cy.result is not None and cy.result["waitlist_position"] == 1


def test_an_attendees_second_job_is_not_overtaken(db: sessionmaker[Session]) -> None:
    # Given two one-seat sessions; ada asks for both, then bob for the second
    org, event = new_event(db, seats=10)
    first, second = add_session(db, event, 1), add_session(db, event, 1)
    ada_1 = submit(db, org, event, ["ada"], at=T0, session_id=first)
    ada_2 = submit(db, org, event, ["ada"], at=T0 + timedelta(seconds=1), session_id=second)
    bob_2 = submit(db, org, event, ["bob"], at=T0 + timedelta(seconds=2), session_id=second)
    ids = ada_1 + ada_2 + bob_2

    # When the messages are taken youngest first (a group holds one job per
    # attendee)
    for job_id in reversed(ids):
        apply_job(db, job_id, now=lambda: LATER)

    # Then ada's second request, accepted before bob's, has the second session's seat
    assert {j.status for j in jobs(db, ids)} == {"succeeded"}
    assert seated_and_waiting(db, ids) == (ada_1 + ada_2, bob_2)


def test_scopes_sharing_seats_are_served_in_order(db: sessionmaker[Session]) -> None:
    # Given two event seats, and a session whose seats are also event seats
    org, event = new_event(db, seats=2)
    part = add_session(db, event, None)
    ada = submit(db, org, event, ["ada"], at=T0)
    bob = submit(db, org, event, ["bob"], at=T0 + timedelta(seconds=1), session_id=part)
    cy = submit(db, org, event, ["cy"], at=T0 + timedelta(seconds=2))
    ids = ada + bob + cy

    # When one message applies the three jobs as one group
    apply_job(db, ada[0], now=lambda: LATER)

    # Then the seats went to ada and bob, who asked first; cy waits
    assert seated_and_waiting(db, ids) == (ada + bob, cy)


def test_requests_stamped_in_the_same_microsecond_keep_one_order(
    db: sessionmaker[Session],
) -> None:
    # Given one seat and six requests bearing the same stamp
    org, event = new_event(db, seats=1)
    ids = []
    for ref in ["ada", "bob", "cy", "dee", "eve", "fay"]:
        ids += submit(db, org, event, [ref], at=T0)
    in_order = sorted(ids)  # the group's order: (created_at, job id)

    # When they are applied in one group
    apply_job(db, ids[0], now=lambda: LATER)

    # Then the waiting list keeps the order the seat was given in
    assert seated_and_waiting(db, ids) == ([in_order[0]], in_order[1:])
    places = {j.id: j.result["waitlist_position"] for j in jobs(db, ids) if j.result}
    assert [places[i] for i in in_order] == [None, 1, 2, 3, 4, 5]


def test_a_job_result_tells_the_place_as_it_is_now(component_stack: Stack) -> None:
    # Given one seat: ada has it, bob waits first, cy second
    stack = component_stack
    key = stack.key()
    event = published_event(stack, key, max_subscriptions=1, waiting_list=True)["id"]
    ada, bob, cy = (enroll(stack, key, event, ref)["id"] for ref in ["ada", "bob", "cy"])
    stack.drain()
    assert job(stack, key, cy)["result"]["waitlist_position"] == 2

    # When ada is removed (her seat promotes bob)
    response = stack.client.delete(f"/v1/events/{event}/attendees/ada", headers=stack.auth(key))
    assert response.status_code == 202
    stack.drain()

    # Then the enroll jobs' results show the enrollments as they are now
    shown = {
        name: (
            job(stack, key, j)["result"]["status"],
            job(stack, key, j)["result"]["waitlist_position"],
        )
        for name, j in [("ada", ada), ("bob", bob), ("cy", cy)]
    }
    assert shown == {"ada": ("removed", None), "bob": ("enrolled", None), "cy": ("waitlisted", 1)}
    # And so does the enrollment list
    listed = stack.client.get(f"/v1/events/{event}/enrollments", headers=stack.auth(key)).json()
    assert {e["attendee_ref"]: e["waitlist_position"] for e in listed["items"]} == {
        "ada": None,
        "bob": None,
        "cy": 1,
    }
    # And the stored result still records what the job did when it ran
    with stack.db() as session:
        stored = session.get(Job, uuid.UUID(cy))
        assert stored is not None and stored.result is not None
        assert stored.result["waitlist_position"] == 2
