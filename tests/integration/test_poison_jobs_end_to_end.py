"""A job the database refuses (a NUL byte in a text column) fails at once with
JOB_DATA_ERROR on real parts: PostgreSQL, Redis, a worker, the SMTP sink. The
job rows are recorded through the domain's submit function, as if they had
got past the edge's validation."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from rollcall.models import Attendee
from tests.support.factories import enroll, published_event
from tests.support.poison import person, rows, submit_raw_job
from tests.support.returning import finished_job
from tests.support.stack import Stack

NUL_NAME = "Ada\x00Lovelace"
#: What PostgreSQL (COPY) or psycopg (a bound parameter) says of it.
NUL_ERRORS = (
    'CharacterNotInRepertoire: invalid byte sequence for encoding "UTF8": 0x00',
    "DataError: PostgreSQL text fields cannot contain NUL (0x00) bytes",
)


def test_a_nul_byte_fails_an_enroll_job_at_once_and_the_others_enroll(real_stack: Stack) -> None:
    # Given a published event, an enroll job with a NUL byte in the name, and good ones
    key = real_stack.key()
    published_event(real_stack, key, ref="ev", max_subscriptions=10)
    poison = submit_raw_job(real_stack, "ev", "enroll", {"attendee": person("ada", name=NUL_NAME)})
    good = [enroll(real_stack, key, "ev", ref)["id"] for ref in ("bob", "cat")]

    # When the worker applies them
    shown = finished_job(real_stack, key, poison)

    # Then the poison job failed at its first attempt, visible at GET /v1/jobs/{id}
    assert (shown["status"], shown["attempts"]) == ("failed", 1), shown
    (error,) = shown["errors"]
    assert error["code"] == "JOB_DATA_ERROR"
    assert error["details"]["error"] in NUL_ERRORS
    # ... and the good jobs enrolled and were mailed, nothing waits for a retry
    assert [finished_job(real_stack, key, one)["status"] for one in good] == ["succeeded"] * 2
    real_stack.drain()
    assert sorted(m["To"].addresses[0].addr_spec for m in real_stack.sink.wait_for(2)) == [
        "bob@example.org",
        "cat@example.org",
    ]
    with real_stack.db() as session:
        assert sorted(session.scalars(select(Attendee.ref))) == ["bob", "cat"]


@pytest.mark.parametrize("atomic", [True, False], ids=["atomic", "chunked"])
def test_a_nul_byte_in_a_bulk_row_ends_the_job_at_once(
    real_stack: Stack, monkeypatch: pytest.MonkeyPatch, atomic: bool
) -> None:
    # Given chunks of two rows, the third row's name holding a NUL byte
    monkeypatch.setattr("rollcall.domain.enrollment.bulk.run.CHUNK_ROWS", 2)
    key = real_stack.key()
    published_event(real_stack, key, ref="ev", max_subscriptions=10)
    people = rows(person("ada"), person("bob"), person("cat", name=NUL_NAME), person("dan"))
    job_id = submit_raw_job(real_stack, "ev", "bulk_enroll", {"atomic": atomic, "rows": people})

    # When the worker applies it
    shown = finished_job(real_stack, key, job_id)

    # Then it ended at its first attempt with the code; an atomic job left
    # nothing, a chunked one kept its first chunk
    expected = ("failed", 0) if atomic else ("partially_succeeded", 2)
    assert (shown["status"], shown["result"]["enrolled"]) == expected, shown
    assert shown["attempts"] == 1
    (error,) = shown["errors"]
    assert error["code"] == "JOB_DATA_ERROR"
    assert error["details"]["error"] in NUL_ERRORS
    with real_stack.db() as session:
        assert sorted(session.scalars(select(Attendee.ref))) == ([] if atomic else ["ada", "bob"])
