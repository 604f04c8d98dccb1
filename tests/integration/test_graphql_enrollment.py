"""Seed 003 over GraphQL on real parts: the ``gql`` client against uvicorn, jobs
applied by a Dramatiq worker over Redis on PostgreSQL, the mutation waiting
for the worker's job-finished notification."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

import rollcall.intake.graphql.enrollment as enrollment_module
from rollcall.models import Enrollment, Job
from tests.support.factories import enroll, published_event
from tests.support.gql_client import gql_client, refused, run
from tests.support.stack import Stack

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

ENROLL = """
mutation Enroll($input: EnrollAttendeeToEventInput!, $wait: Float) {
  enrollAttendeeToEvent(input: $input, wait: $wait) {
    enrollment { id status waitlistPosition }
    job { id status }
    errors { code message }
  }
}
"""

BULK = """
mutation Bulk($input: BulkEnrollAttendeesToEventInput!, $wait: Float) {
  bulkEnrollAttendeesToEvent(input: $input, wait: $wait) {
    job { id status progress { done total } }
    enrollments { id attendeeRef status waitlistPosition }
    errors { row attendeeRef code message }
  }
}
"""

REMOVE = """
mutation Remove($input: RemoveAttendeeFromEventInput!, $wait: Float) {
  removeAttendeeFromEvent(input: $input, wait: $wait) { success job { status } }
}
"""

JOB = "query Job($id: UUID!) { job(id: $id) { id status errors { code } } }"


def attendee(ref: str) -> dict[str, str]:
    return {"ref": ref, "email": f"{ref}@example.org", "name": ref.title()}


def enrolled(stack: Stack, key: str, **input: Any) -> dict[str, Any]:
    data = run(gql_client(stack, key), ENROLL, input=input, wait=30)
    return dict(data["enrollAttendeeToEvent"])


def test_enroll_answers_with_the_enrollment_the_worker_made(real_stack: Stack) -> None:
    # Given a published event with seats
    key = real_stack.key(scopes=["students:write"])
    admin = real_stack.key()
    published_event(real_stack, admin, ref="gql-intro", max_subscriptions=5)

    # When an attendee is enrolled by ref over GraphQL
    payload = enrolled(real_stack, key, eventRef="gql-intro", attendee=attendee("ada"))

    # Then the payload carries the enrollment the worker committed, no errors
    assert payload["errors"] == []
    assert payload["job"]["status"] == "SUCCEEDED"
    assert payload["enrollment"]["status"] == "ENROLLED"
    assert payload["enrollment"]["waitlistPosition"] is None
    with real_stack.db() as session:
        row = session.scalars(select(Enrollment)).one()
        assert str(row.id) == payload["enrollment"]["id"]
        job = session.get(Job, row.job_id)
        assert job is not None and str(job.id) == payload["job"]["id"]


def test_wait_zero_answers_queued_and_job_reads_it_later(real_stack: Stack) -> None:
    key = real_stack.key()
    event = published_event(real_stack, key, ref="gql-zero", max_subscriptions=5)
    real_stack.stop()  # no worker: the job stays queued

    client = gql_client(real_stack, key)
    data = run(client, ENROLL, input={"eventId": event["id"], "attendee": attendee("bob")}, wait=0)
    payload = data["enrollAttendeeToEvent"]
    assert payload["job"]["status"] == "QUEUED"
    assert payload["enrollment"] is None
    assert payload["errors"] == []

    # And job(id) shows the same job to its creator
    job = run(client, JOB, id=payload["job"]["id"])["job"]
    assert job == {"id": payload["job"]["id"], "status": "QUEUED", "errors": []}


def test_a_full_event_answers_waitlisted_with_the_place(real_stack: Stack) -> None:
    key = real_stack.key()
    published_event(real_stack, key, ref="gql-full", max_subscriptions=1, waiting_list=True)
    enroll(real_stack, key, "gql-full", "first")
    real_stack.drain()

    payload = enrolled(real_stack, key, eventRef="gql-full", attendee=attendee("second"))

    assert payload["errors"] == []
    assert payload["enrollment"]["status"] == "WAITLISTED"
    assert payload["enrollment"]["waitlistPosition"] == 1


def test_a_refused_enrollment_is_in_the_payloads_errors(real_stack: Stack) -> None:
    key = real_stack.key()
    published_event(real_stack, key, ref="gql-closed", max_subscriptions=1, waiting_list=False)
    enroll(real_stack, key, "gql-closed", "first")
    real_stack.drain()

    payload = enrolled(real_stack, key, eventRef="gql-closed", attendee=attendee("late"))

    assert payload["enrollment"] is None
    assert payload["job"]["status"] == "FAILED"
    assert [e["code"] for e in payload["errors"]] == ["EVENT_FULL"]


def test_another_organisations_event_is_not_found(real_stack: Stack) -> None:
    ours = real_stack.key("acme")
    theirs = real_stack.key("globex")
    event = published_event(real_stack, theirs, ref="gql-theirs")

    by_id = enrolled(real_stack, ours, eventId=event["id"], attendee=attendee("ada"))
    by_ref = enrolled(real_stack, ours, eventRef="gql-theirs", attendee=attendee("ada"))

    for payload in (by_id, by_ref):
        assert payload["job"] is None and payload["enrollment"] is None
        assert [e["code"] for e in payload["errors"]] == ["EVENT_NOT_FOUND"]
    error = refused(
        gql_client(real_stack, ours),
        REMOVE,
        input={"eventRef": "gql-theirs", "attendeeRef": "ada"},
    )
    assert error["code"] == "EVENT_NOT_FOUND"
    with real_stack.db() as session:
        assert session.scalars(select(Job)).all() == []


def test_bad_input_is_refused_before_any_job(real_stack: Stack) -> None:
    key = real_stack.key()
    published_event(real_stack, key, ref="gql-bad")
    cases = [
        {"eventRef": "gql-bad", "attendee": {"ref": "ada", "name": "Ada"}},  # no email
        {"eventRef": "gql-bad", "attendee": {"ref": "ada", "email": "not-an-address"}},
        {"attendee": attendee("ada")},  # neither eventId nor eventRef
    ]
    for case in cases:
        payload = enrolled(real_stack, key, **case)
        assert payload["job"] is None
        assert [e["code"] for e in payload["errors"]] == ["VALIDATION_ERROR"], case
    # A field named as the seed names it (the attendee's name, not an event's title)
    long_name = enrolled(
        real_stack, key, eventRef="gql-bad", attendee=attendee("ada") | {"name": "x" * 201}
    )
    assert long_name["errors"][0]["message"].startswith("attendee.name:"), long_name
    # wait out of bounds
    client = gql_client(real_stack, key)
    data = run(client, ENROLL, input={"eventRef": "gql-bad", "attendee": attendee("a")}, wait=-1)
    assert data["enrollAttendeeToEvent"]["errors"][0]["code"] == "VALIDATION_ERROR"
    with real_stack.db() as session:
        assert session.scalars(select(Job)).all() == []


def test_the_scope_is_students_write(real_stack: Stack) -> None:
    reader = real_stack.key(scopes=["events:read"])
    published_event(real_stack, real_stack.key(), ref="gql-scope")
    error = refused(
        gql_client(real_stack, reader),
        ENROLL,
        input={"eventRef": "gql-scope", "attendee": attendee("ada")},
    )
    assert error["code"] == "INSUFFICIENT_SCOPE"


def test_bulk_reports_bad_rows_per_row_and_lists_the_enrollments(real_stack: Stack) -> None:
    # Given an event with two seats and a waiting list
    key = real_stack.key()
    published_event(real_stack, key, ref="gql-bulk", max_subscriptions=2, waiting_list=True)

    # When four attendees are sent, one without an email, not atomically
    rows = [attendee("a1"), {"ref": "broken", "name": "No Mail"}, attendee("a2"), attendee("a3")]
    data = run(
        gql_client(real_stack, key),
        BULK,
        input={"eventRef": "gql-bulk", "attendees": rows, "atomic": False},
        wait=30,
    )
    payload = data["bulkEnrollAttendeesToEvent"]

    # Then the bad row is an error of its own, and the others are enrolled or waitlisted
    assert payload["job"]["status"] == "PARTIALLY_SUCCEEDED"
    assert payload["job"]["progress"] == {"done": 4, "total": 4}
    (error,) = payload["errors"]
    assert (error["row"], error["attendeeRef"], error["code"]) == (2, "broken", "VALIDATION_ERROR")
    assert [
        (e["attendeeRef"], e["status"], e["waitlistPosition"]) for e in payload["enrollments"]
    ] == [
        ("a1", "ENROLLED", None),
        ("a2", "ENROLLED", None),
        ("a3", "WAITLISTED", 1),
    ]


def test_bulk_atomic_with_a_bad_row_enrolls_nobody(real_stack: Stack) -> None:
    key = real_stack.key()
    published_event(real_stack, key, ref="gql-atomic", max_subscriptions=5)
    rows = [attendee("a1"), {"ref": "broken", "email": "nope"}]
    data = run(
        gql_client(real_stack, key),
        BULK,
        input={"eventRef": "gql-atomic", "attendees": rows, "atomic": True},
        wait=30,
    )
    payload = data["bulkEnrollAttendeesToEvent"]
    assert payload["job"]["status"] == "FAILED"
    assert payload["enrollments"] == []
    assert [(e["row"], e["code"]) for e in payload["errors"] if e["row"]] == [
        (2, "VALIDATION_ERROR")
    ]
    with real_stack.db() as session:
        assert session.scalars(select(Enrollment)).all() == []


def test_remove_answers_success_and_a_failure_is_an_execution_error(real_stack: Stack) -> None:
    key = real_stack.key()
    published_event(real_stack, key, ref="gql-remove", max_subscriptions=5)
    enroll(real_stack, key, "gql-remove", "ada")
    real_stack.drain()
    client = gql_client(real_stack, key)

    data = run(client, REMOVE, input={"eventRef": "gql-remove", "attendeeRef": "ada"}, wait=30)
    assert data["removeAttendeeFromEvent"] == {"success": True, "job": {"status": "SUCCEEDED"}}

    error = refused(
        client, REMOVE, input={"eventRef": "gql-remove", "attendeeRef": "nobody"}, wait=30
    )
    assert error["code"] in ("ENROLLMENT_NOT_FOUND", "ATTENDEE_NOT_FOUND")


def test_aliased_mutations_share_one_wait(
    real_stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given no worker, and at most 1.5 s of waiting per request
    key = real_stack.key()
    published_event(real_stack, key, ref="gql-alias", max_subscriptions=5)
    real_stack.stop()
    monkeypatch.setattr(real_stack.settings, "graphql_job_wait_max_seconds", 1.5)

    # When one document enrolls four attendees, each asking to wait 1.5 s
    fields = "\n".join(
        f'a{n}: enrollAttendeeToEvent(input: {{eventRef: "gql-alias", attendee: '
        f'{{ref: "p{n}", email: "p{n}@example.org"}}}}, wait: 1.5) {{ job {{ status }} }}'
        for n in range(4)
    )
    asked: list[float] = []
    real_wait = enrollment_module.await_job_outcome

    async def recording(settings: Any, factory: Any, job_id: Any, timeout: float) -> Any:
        asked.append(timeout)
        return await real_wait(settings, factory, job_id, timeout)

    monkeypatch.setattr(enrollment_module, "await_job_outcome", recording)
    data = run(gql_client(real_stack, key), f"mutation {{ {fields} }}")

    # Then all four are accepted and queued, and the request's 1.5 s went to the
    # first (mutations run one after another): the other three waited nothing
    assert [data[f"a{n}"]["job"]["status"] for n in range(4)] == ["QUEUED"] * 4
    assert asked == [1.5, 0.0, 0.0, 0.0]


def test_a_retried_mutation_with_its_idempotency_key_answers_the_first_job(
    real_stack: Stack,
) -> None:
    # Given an event with seats, and an upstream client that retries a mutation
    # whose answer it lost (a timeout, a dropped connection)
    key = real_stack.key()
    published_event(real_stack, key, ref="gql-retry", max_subscriptions=5)
    first = enrolled(
        real_stack, key, eventRef="gql-retry", attendee=attendee("ada"), idempotencyKey="k-1"
    )

    # When it sends the same mutation again with the same idempotencyKey
    again = enrolled(
        real_stack, key, eventRef="gql-retry", attendee=attendee("ada"), idempotencyKey="k-1"
    )

    # Then the answer is the first call's job and enrollment: one job, one row
    assert again["job"] == first["job"] and again["enrollment"] == first["enrollment"]
    assert again["errors"] == []
    with real_stack.db() as session:
        assert len(session.scalars(select(Job)).all()) == 1
        assert len(session.scalars(select(Enrollment)).all()) == 1

    # And the key with other input is refused, naming the code REST gives
    other = enrolled(
        real_stack, key, eventRef="gql-retry", attendee=attendee("bob"), idempotencyKey="k-1"
    )
    assert other["job"] is None
    assert [e["code"] for e in other["errors"]] == ["IDEMPOTENCY_KEY_REUSED"]

    # And a bulk and a removal are as idempotent (the removal's failure would be an error)
    bulk_input = {
        "eventRef": "gql-retry",
        "attendees": [attendee("cy"), attendee("di")],
        "idempotencyKey": "k-bulk",
    }
    client = gql_client(real_stack, key)
    bulks = [run(client, BULK, input=bulk_input, wait=30)["bulkEnrollAttendeesToEvent"]]
    bulks.append(run(client, BULK, input=bulk_input, wait=30)["bulkEnrollAttendeesToEvent"])
    assert bulks[0]["job"]["id"] == bulks[1]["job"]["id"]
    remove_input = {"eventRef": "gql-retry", "attendeeRef": "ada", "idempotencyKey": "k-rm"}
    removals = [run(client, REMOVE, input=remove_input, wait=30) for _ in range(2)]
    assert [r["removeAttendeeFromEvent"]["success"] for r in removals] == [True, True]
    with real_stack.db() as session:
        assert len(session.scalars(select(Job)).all()) == 3
        assert len(session.scalars(select(Enrollment)).all()) == 3


def test_an_idempotency_key_is_checked_as_rests_header(real_stack: Stack) -> None:
    key = real_stack.key()
    published_event(real_stack, key, ref="gql-badkey")
    for bad in ("", "k" * 201, "a\x00b"):
        payload = enrolled(
            real_stack, key, eventRef="gql-badkey", attendee=attendee("ada"), idempotencyKey=bad
        )
        assert payload["job"] is None
        assert [e["code"] for e in payload["errors"]] == ["VALIDATION_ERROR"], bad
        assert payload["errors"][0]["message"].startswith("idempotencyKey:"), payload
    with real_stack.db() as session:
        assert session.scalars(select(Job)).all() == []
