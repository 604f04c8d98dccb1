"""Moving on real parts (issue 15 #7): PostgreSQL, Redis, Dramatiq worker
processes and the SMTP sink. Moves race with enrollments for the last seats of
a date; the capacity holds, every seat a move frees goes to the next in line,
and each moved attendee gets exactly one "moved" mail."""

from __future__ import annotations

import uuid
from collections import Counter

import pytest
from sqlalchemy import func, select

from rollcall.models import EmailMessage, Enrollment, Job, Occurrence, Payment
from tests.integration.test_enroll_race import dramatiq_processes, wait_until_done
from tests.support.factories import job
from tests.support.moving import enroll_into, per_date_event, post_move
from tests.support.stack import Stack

pytestmark = pytest.mark.slow

SEATS = 5


def _counts(stack: Stack, occurrence_id: str) -> tuple[int, int, int, int]:
    """(enrolled_count, waitlisted_count, enrolled rows, waitlisted rows) of a date."""
    with stack.db() as session:
        row = session.get(Occurrence, uuid.UUID(occurrence_id))
        assert row is not None
        rows = Counter(
            session.scalars(
                select(Enrollment.status).where(Enrollment.scope_key == f"occ:{occurrence_id}")
            )
        )
        return row.enrolled_count, row.waitlisted_count, rows["enrolled"], rows["waitlisted"]


def test_moves_race_with_enrollments_and_never_oversell(real_stack: Stack) -> None:
    # Given date A full (5 seated, 3 waiting) and date B with 2 seats left
    stack = real_stack
    key = stack.key()
    _, (date_a, date_b, _date_c) = per_date_event(stack, key, seats=SEATS)
    for i in range(SEATS + 3):
        enroll_into(stack, key, "pottery", f"a{i}", occurrence_id=date_a)
    for i in range(SEATS - 2):
        enroll_into(stack, key, "pottery", f"b{i}", occurrence_id=date_b)
    stack.drain()
    with stack.db() as session:
        seated_a = [
            str(e.id)
            for e in session.scalars(
                select(Enrollment).where(
                    Enrollment.scope_key == f"occ:{date_a}", Enrollment.status == "enrolled"
                )
            )
        ]
    assert len(seated_a) == SEATS
    stack.sink.messages.clear()

    # When, with the worker stopped, all 5 seated on A ask to move to B and 4
    # newcomers ask for B; then 2 worker processes x 4 threads take them at once
    stack.stop()
    moves: list[str] = []
    enrolls: list[str] = []
    for i, enrollment in enumerate(seated_a):  # interleaved: m e m e m e m e m
        moves.append(post_move(stack, key, "pottery", enrollment, occurrence_id=date_b))
        if i < 4:
            enrolls.append(enroll_into(stack, key, "pottery", f"n{i}", occurrence_id=date_b))
    with dramatiq_processes(stack, 2, 4, queues=("jobs", "mail")):
        wait_until_done(stack, moves + enrolls)
        results = {j: job(stack, key, j) for j in moves}
        moved = [r for r in results.values() if r["status"] == "succeeded"]
        refused = [r for r in results.values() if r["status"] == "failed"]

        # Then B holds exactly its 5 seats, counters equal rows on both dates
        b_counts = _counts(stack, date_b)
        assert b_counts[0] == b_counts[2] == SEATS
        assert b_counts[1] == b_counts[3]
        a_counts = _counts(stack, date_a)
        assert a_counts[:2] == a_counts[2:]
        # ... at most the 2 free seats went to moves; the rest were refused, untouched
        assert len(moved) + len(refused) == SEATS
        assert len(moved) <= 2
        assert {r["errors"][0]["code"] for r in refused} <= {"MOVE_TARGET_FULL"}
        # ... every seat a move freed on A went to the next in line, in order
        promoted = [p["attendee_ref"] for r in moved for p in r["result"]["promoted"]]
        assert sorted(promoted) == [f"a{SEATS + i}" for i in range(len(moved))]
        assert a_counts[0] == SEATS and a_counts[1] == 3 - len(moved)
        # ... every seat holder has exactly one payment: no orphan, none missing
        with stack.db() as session:
            seated = session.scalar(
                select(func.count()).select_from(Enrollment).where(Enrollment.status == "enrolled")
            )
            payments = session.scalar(select(func.count()).select_from(Payment))
            assert payments == seated
            newcomers = session.scalars(
                select(Job.status).where(Job.id.in_([uuid.UUID(j) for j in enrolls]))
            ).all()
            assert set(newcomers) == {"succeeded"}
            expected_mails = session.scalar(
                select(func.count())
                .select_from(EmailMessage)
                .where(EmailMessage.job_id.in_([uuid.UUID(j) for j in moves + enrolls]))
            )

        # ... and in the SMTP sink: one "moved" mail per moved attendee, none for
        # the refused, one "seat is yours" per promotion
        mails = stack.sink.wait_for(int(expected_mails or 0), timeout=60)
        subjects = Counter(
            (m["To"].addresses[0].addr_spec.split("@")[0], m["Subject"].split(":")[0])
            for m in mails
        )
        moved_refs = sorted(r["result"]["attendee_ref"] for r in moved)
        assert (
            sorted(
                ref
                for (ref, subject), n in subjects.items()
                for _ in range(n)
                if subject == "Your enrollment has moved"
            )
            == moved_refs
        )
        assert sorted(
            ref
            for (ref, subject), n in subjects.items()
            for _ in range(n)
            if subject == "A seat is yours"
        ) == sorted(promoted)


def test_racing_moves_fill_the_last_seats_exactly_and_promote_in_line(real_stack: Stack) -> None:
    # Given date A full (5 seated, 3 waiting) and date C with 3 seats left
    stack = real_stack
    key = stack.key()
    _, (date_a, _date_b, date_c) = per_date_event(stack, key, seats=SEATS)
    for i in range(SEATS + 3):
        enroll_into(stack, key, "pottery", f"a{i}", occurrence_id=date_a)
    for i in range(SEATS - 3):
        enroll_into(stack, key, "pottery", f"c{i}", occurrence_id=date_c)
    stack.drain()
    with stack.db() as session:
        seated_a = [
            str(e.id)
            for e in session.scalars(
                select(Enrollment).where(
                    Enrollment.scope_key == f"occ:{date_a}", Enrollment.status == "enrolled"
                )
            )
        ]
    stack.sink.messages.clear()

    # When all 5 seated on A ask to move to C at once (2 processes x 4 threads)
    stack.stop()
    moves = [post_move(stack, key, "pottery", e, occurrence_id=date_c) for e in seated_a]
    with dramatiq_processes(stack, 2, 4, queues=("jobs", "mail")):
        wait_until_done(stack, moves)
        results = [job(stack, key, j) for j in moves]
        moved = [r for r in results if r["status"] == "succeeded"]

        # Then exactly 3 moved, 2 were refused; C is full, A promoted its whole line in order
        assert len(moved) == 3
        assert (
            sorted(r["errors"][0]["code"] for r in results if r not in moved)
            == ["MOVE_TARGET_FULL"] * 2
        )
        assert _counts(stack, date_c) == (SEATS, 0, SEATS, 0)
        assert _counts(stack, date_a) == (SEATS, 0, SEATS, 0)
        promoted = [p["attendee_ref"] for r in moved for p in r["result"]["promoted"]]
        assert sorted(promoted) == ["a5", "a6", "a7"]
        with stack.db() as session:
            seated = session.scalar(
                select(func.count()).select_from(Enrollment).where(Enrollment.status == "enrolled")
            )
            assert session.scalar(select(func.count()).select_from(Payment)) == seated

        # ... and the sink has 3 "moved" mails (one each) and 3 "seat is yours"
        mails = stack.sink.wait_for(6, timeout=60)
        kinds = Counter(m["Subject"].split(":")[0] for m in mails)
        assert kinds == {"Your enrollment has moved": 3, "A seat is yours": 3}
        moved_to = sorted(m["To"].addresses[0].addr_spec for m in mails if "moved" in m["Subject"])
        assert moved_to == sorted(f"{r['result']['attendee_ref']}@example.org" for r in moved)
