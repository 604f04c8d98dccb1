"""On PostgreSQL the intake records a job and its outbox row, stamped under the
line's turn, in one statement (domain.jobs.one_statement, issue 19 goal 3);
the enroll route runs it in autocommit, so the statement is the whole
transaction. What a request costs, that a refusal writes nothing, and that
idempotency keys still answer one job (tests/integration/
test_job_one_statement_rows.py: what the statement writes)."""

from __future__ import annotations

import functools
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlalchemy import func, select, text

from rollcall.domain.clock import utcnow
from rollcall.messaging.outbox import _mark_sent, sent_marks
from rollcall.models import Job, OutboxMessage
from rollcall.models.base import new_id
from rollcall.models.db import sessions_of
from tests.integration.test_fair_line import holding_key, in_thread, lock_waiters
from tests.support.factories import enroll, published_event
from tests.support.stack import Stack
from tests.support.statements import round_trips
from tests.support.waiting import wait_until


def _kind(trip: str) -> str:
    """A round trip as its first words name it."""
    if trip.startswith("with "):
        both = "insert into jobs" in trip and "insert into outbox" in trip
        if not both:
            return "stamp"
        return "job + outbox row, event checked" if " from events" in trip else "job + outbox row"
    for prefix, name in (
        ("select events.", "read the event"),
        ("insert into jobs", "job"),
        ("insert into outbox", "outbox row"),
        ("update outbox", "mark sent"),
        ("select jobs.", "read the job by key"),
    ):
        if trip.startswith(prefix):
            return name
    return trip.split(" ")[0]


def test_an_enroll_post_costs_two_round_trips(real_stack: Stack) -> None:
    # Given a published event, and no worker (its statements are not the request's)
    stack = real_stack
    key = stack.key()
    event = published_event(stack, key, ref="intro", max_subscriptions=5)["id"]
    enroll(stack, key, event, "warm")  # the key's lookup noted, the pool warm
    stack.stop()

    # When an attendee is enrolled
    with round_trips(stack) as trips:
        enroll(stack, key, event, "ada")

    # Then the request cost one statement for the job and its outbox row,
    # which also checked the event (no read of its own, no BEGIN, no stamp
    # of its own, no COMMIT), and the mark sent after the enqueue (the
    # credential's lookup aside: not this change's)
    submit = [_kind(t) for t in trips if "api_keys" not in t and "attendee_tokens" not in t]
    assert submit == ["job + outbox row, event checked", "mark sent"]


def test_an_enroll_post_reads_the_events_id_alone(real_stack: Stack) -> None:
    # Given a published event, and no worker
    stack = real_stack
    key = stack.key()
    event = published_event(stack, key, ref="intro", max_subscriptions=5)["id"]
    enroll(stack, key, event, "warm")
    stack.stop()

    # When an attendee is enrolled, by the event's id and by its ref
    with round_trips(stack) as trips:
        enroll(stack, key, event, "ada")
        enroll(stack, key, "intro", "bob")

    # Then the event named by its id is checked in the job's statement, and
    # the one named by its ref is read first, its id and nothing more (the
    # job needs no more of it: no event row is loaded as an ORM object)
    reads = [t for t in trips if t.startswith("select events.")]
    assert len(reads) == 1, reads  # by ref (a ref is no UUID: no id tried)
    assert reads[0].startswith("select events.id from events where"), reads
    kinds = [_kind(t) for t in trips if "insert into jobs" in t]
    assert kinds == ["job + outbox row, event checked", "job + outbox row"]


def test_an_enroll_finds_its_event_by_id_first_then_by_ref_in_its_organisation(
    real_stack: Stack,
) -> None:
    # Given an event, and another whose ref is the first one's id (a UUID is a
    # valid ref), and another organisation's key; no worker
    stack = real_stack
    key, theirs = stack.key("acme"), stack.key("globex")
    first = published_event(stack, key, ref="intro", max_subscriptions=5)["id"]
    second = published_event(stack, key, ref=first, max_subscriptions=5)["id"]
    stack.stop()

    # When attendees are enrolled by the id (also the second's ref) and by a ref
    by_id = enroll(stack, key, first, "ada")
    by_ref = enroll(stack, key, "intro", "bob")

    # Then the id wins over the ref that spells it, a ref is found as a ref,
    # and neither is found with the other organisation's key
    with stack.db() as session:
        events = {
            str(job.id): str(job.event_id)
            for job in session.scalars(select(Job).where(Job.id.in_([by_id["id"], by_ref["id"]])))
        }
    assert events == {by_id["id"]: first, by_ref["id"]: first}
    assert second != first
    body = {"attendee": {"ref": "eve", "email": "eve@example.org"}}
    for path in (first, "intro"):
        response = stack.client.post(
            f"/v1/events/{path}/enrollments", json=body, headers=stack.auth(theirs)
        )
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "EVENT_NOT_FOUND"


def test_an_event_checked_in_the_jobs_statement_refuses_as_a_lookup_would(
    real_stack: Stack,
) -> None:
    # Given an event whose ref is spelled as a UUID that is no event's id,
    # another organisation's key, and no worker
    stack = real_stack
    key, theirs = stack.key("acme"), stack.key("globex")
    spelled = str(uuid.uuid4())
    event = published_event(stack, key, ref=spelled, max_subscriptions=5)["id"]
    stack.stop()
    with stack.db() as session:
        before = session.scalar(select(func.count()).select_from(OutboxMessage))

    # When an attendee is enrolled by that ref (it is tried as an id first)
    by_ref = enroll(stack, key, spelled, "ada")

    # Then the job is the event's
    with stack.db() as session:
        assert str(session.get(Job, uuid.UUID(by_ref["id"])).event_id) == event  # type: ignore[union-attr]

    # And a UUID that is no event, or another organisation's event, is
    # refused as before (404), writing nothing
    body = {"attendee": {"ref": "eve", "email": "eve@example.org"}}
    for path, caller in ((str(uuid.uuid4()), key), (event, theirs)):
        response = stack.client.post(
            f"/v1/events/{path}/enrollments",
            json=body,
            headers=stack.auth(caller) | {"Idempotency-Key": "eve-once"},
        )
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "EVENT_NOT_FOUND"
    # And an unknown event is refused before a bad scope, as before
    both = body | {"occurrence_id": str(uuid.uuid4()), "session_id": str(uuid.uuid4())}
    response = stack.client.post(
        f"/v1/events/{uuid.uuid4()}/enrollments", json=both, headers=stack.auth(key)
    )
    assert response.status_code == 404, response.text
    with stack.db() as session:
        after = session.scalar(select(func.count()).select_from(OutboxMessage))
        keyed = session.scalar(select(func.count()).where(Job.idempotency_key == "eve-once"))
    assert (after, keyed) == ((before or 0) + 1, 0)


def test_a_repeated_key_costs_no_write_and_answers_the_first_job(real_stack: Stack) -> None:
    # Given an attendee enrolled with an Idempotency-Key, and no worker
    stack = real_stack
    key = stack.key()
    event = published_event(stack, key, ref="intro", max_subscriptions=5)["id"]
    stack.stop()
    headers = {"Idempotency-Key": "ada-once"}
    first = enroll(stack, key, event, "ada", headers=headers)

    # When the same request is repeated
    with round_trips(stack) as trips:
        again = enroll(stack, key, event, "ada", headers=headers)

    # Then it answers the first job, recorded once with one outbox row
    assert again["id"] == first["id"]
    submit = [_kind(t) for t in trips if "api_keys" not in t and "attendee_tokens" not in t]
    assert submit == ["job + outbox row, event checked", "read the job by key"]
    with stack.db() as session:
        jobs = session.scalars(select(Job.id).where(Job.idempotency_key == "ada-once")).all()
        outbox = [
            o for o in session.scalars(select(OutboxMessage)).all() if o.args == [first["id"]]
        ]
    assert [str(j) for j in jobs] == [first["id"]]
    assert len(outbox) == 1


def test_a_refused_request_writes_nothing(real_stack: Stack) -> None:
    # Given an attendee enrolled with an Idempotency-Key
    stack = real_stack
    key = stack.key()
    event = published_event(stack, key, ref="intro", max_subscriptions=5)["id"]
    enroll(stack, key, event, "ada", headers={"Idempotency-Key": "k"})
    with stack.db() as session:
        before = (
            session.scalar(select(func.count()).select_from(Job)),
            session.scalar(select(func.count()).select_from(OutboxMessage)),
        )

    # When the key is reused for another request, and a request names both an
    # occurrence and a session
    reused = stack.client.post(
        f"/v1/events/{event}/enrollments",
        json={"attendee": {"ref": "bob", "email": "bob@example.org"}},
        headers=stack.auth(key) | {"Idempotency-Key": "k"},
    )
    both = stack.client.post(
        f"/v1/events/{event}/enrollments",
        json={
            "attendee": {"ref": "cy", "email": "cy@example.org"},
            "occurrence_id": str(uuid.uuid4()),
            "session_id": str(uuid.uuid4()),
        },
        headers=stack.auth(key),
    )

    # Then both are refused with their codes, and nothing was written
    assert (reused.status_code, reused.json()["error"]["code"]) == (409, "IDEMPOTENCY_KEY_REUSED")
    assert both.status_code == 422, both.text
    with stack.db() as session:
        after = (
            session.scalar(select(func.count()).select_from(Job)),
            session.scalar(select(func.count()).select_from(OutboxMessage)),
        )
    assert after == before


def test_racing_duplicates_of_a_key_make_one_job(real_stack: Stack) -> None:
    # Given a request's key held by an uncommitted job (the racing duplicates
    # then all wait at the unique key, and race again once it is gone)
    stack = real_stack
    key = stack.key()
    event = published_event(stack, key, ref="intro", max_subscriptions=50)["id"]
    holder = holding_key(stack, event, "dup")
    racers = 6
    body = {"attendee": {"ref": "ada", "email": "ada@example.org"}}

    def post() -> httpx.Response:
        with httpx.Client(base_url=stack.extra["server"].url, timeout=60) as http:
            return http.post(
                f"/v1/events/{event}/enrollments",
                json=body,
                headers=stack.auth(key) | {"Idempotency-Key": "dup"},
            )

    with ThreadPoolExecutor(racers) as pool:
        futures = [pool.submit(post) for _ in range(racers)]
        # When all of them wait for the key, and its holder gives it up
        wait_until(
            lambda: lock_waiters(stack.settings.database_url) == racers,
            timeout=30,
            what=f"{racers} requests wait for the key",
            every=0.02,
        )
        holder.rollback()
        holder.close()
        answers = [future.result() for future in futures]

    # Then every answer is the one job, recorded once with one outbox row
    assert {a.status_code for a in answers} == {202}, [a.text for a in answers]
    ids = {a.json()["id"] for a in answers}
    assert len(ids) == 1
    with stack.db() as session:
        jobs = session.scalars(select(Job.id).where(Job.idempotency_key == "dup")).all()
        outbox = [o for o in session.scalars(select(OutboxMessage)).all() if o.args == list(ids)]
    assert [str(j) for j in jobs] == list(ids)
    assert len(outbox) == 1


def test_marks_sent_meanwhile_wait_for_no_one_and_go_in_one_update(real_stack: Stack) -> None:
    # Given a published event, no worker, and a sender whose mark-sent UPDATE
    # is held: it waits for a row lock on the outbox row it marks
    stack = real_stack
    key = stack.key()
    event = published_event(stack, key, ref="intro", max_subscriptions=50)["id"]
    stack.stop()
    factory = sessions_of(stack.settings)
    held = new_id()
    with stack.db() as session:
        session.add(OutboxMessage(id=held, actor="process_job", args=["x"], created_at=utcnow()))
    holder = stack.sessions()
    holder.execute(text("SELECT 1 FROM outbox WHERE id = :id FOR UPDATE"), {"id": held})
    marks = sent_marks(factory)
    before = marks.statements
    write = functools.partial(_mark_sent, factory)
    leader = in_thread(lambda: marks.mark([held], utcnow(), write))
    wait_until(lambda: lock_waiters(stack.settings.database_url) == 1, timeout=30, what="held")

    # When five attendees are enrolled meanwhile
    accepted = [enroll(stack, key, event, f"a{n}")["id"] for n in range(5)]

    # Then each was answered 202 though its mark could not be written yet
    # (it waits for the held sender's UPDATE, never answering late)
    with stack.db() as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.id != held)).all()
        ours = [row for row in rows if row.args[0] in accepted]
    assert len(ours) == 5 and all(row.sent_at is None for row in ours)

    # And once the held UPDATE is done, the five are marked by one more
    holder.rollback()
    holder.close()
    leader()

    def unmarked() -> int:
        with stack.db() as session:
            return int(
                session.scalar(
                    select(func.count()).where(
                        OutboxMessage.sent_at.is_(None), OutboxMessage.id != held
                    )
                )
                or 0
            )

    wait_until(lambda: unmarked() == 0, timeout=30, what="the five rows marked sent")
    assert marks.statements - before == 2
