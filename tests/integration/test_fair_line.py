"""A fair line on PostgreSQL, over HTTP: 400 people rush 50 seats while 4
worker processes x 8 threads apply their jobs.

Fairness is judged as the people in the rush see it: when A had its 202
before B even sent its request, B must not end ahead of A (a seat over A's
waiting-list place, or a better place). And every place anybody is told, in
the job result and in the mail at the SMTP sink, is the true place. Repeated
over several rounds: one lucky round proves little.
"""

from __future__ import annotations

import queue
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from rollcall.domain.clock import utcnow
from rollcall.domain.jobs.engine import apply_job, submit_job
from rollcall.models import Attendee, Enrollment, Event, Job
from rollcall.models.db import engine_for, sessions_for
from rollcall.models.enrollment import ACTIVE_STATUSES
from tests.integration.test_enroll_race import (
    PROCESSES,
    THREADS,
    dramatiq_processes,
    wait_until_done,
)
from tests.support.enroll_groups import new_event, submit
from tests.support.factories import enroll, job, published_event
from tests.support.stack import Stack
from tests.support.waiting import wait_until

SEATS, REQUESTS, ROUNDS = 50, 400, 3
#: Client threads posting at once, each over its own connection.
CLIENTS = 16
LEAVING = 5

pytestmark = pytest.mark.slow


@pytest.fixture
def line_workers(real_stack: Stack) -> Iterator[Stack]:
    """4 worker processes x 8 threads on the jobs and mail queues."""
    real_stack.stop()
    with dramatiq_processes(real_stack, PROCESSES, THREADS, queues=("jobs", "mail")) as stack:
        yield stack


@dataclass(frozen=True)
class Sent:
    ref: str
    job_id: str
    #: time.monotonic() before the request was sent, and when its 202 was read.
    sent: float
    acked: float


def rush(stack: Stack, key: str, event: str, refs: list[str]) -> list[Sent]:
    """Post one enroll job per ref from CLIENTS threads at once."""
    todo: queue.SimpleQueue[str] = queue.SimpleQueue()
    for ref in refs:
        todo.put(ref)
    start = threading.Barrier(CLIENTS)

    def client() -> list[Sent]:
        done: list[Sent] = []
        with httpx.Client(base_url=stack.extra["server"].url, timeout=60) as http:
            start.wait()
            while True:
                try:
                    ref = todo.get_nowait()
                except queue.Empty:
                    return done
                body = {"attendee": {"ref": ref, "email": f"{ref}@example.org", "name": ref}}
                sent = time.monotonic()
                response = http.post(
                    f"/v1/events/{event}/enrollments", json=body, headers=stack.auth(key)
                )
                acked = time.monotonic()
                assert response.status_code == 202, response.text
                done.append(Sent(ref, response.json()["id"], sent, acked))

    with ThreadPoolExecutor(CLIENTS) as pool:
        futures = [pool.submit(client) for _ in range(CLIENTS)]
        return [sent for future in futures for sent in future.result()]


@dataclass(frozen=True)
class Line:
    """The truth, from the database: who is seated, and each waiting place by
    acceptance order (requested_at, request_seq, id)."""

    order: list[str]
    enrolled: set[str]
    places: dict[str, int]

    def rank(self, ref: str) -> int:
        """0 for a seat, else the waiting-list place: lower is ahead."""
        return 0 if ref in self.enrolled else self.places[ref]


def true_line(stack: Stack, event: str) -> Line:
    with stack.db() as session:
        rows = session.execute(
            select(Attendee.ref, Enrollment.status, Enrollment.requested_at, Enrollment.job_id)
            .join(Attendee, Attendee.id == Enrollment.attendee_id)
            .where(
                Enrollment.event_id == uuid.UUID(event),
                Enrollment.status.in_(ACTIVE_STATUSES),
            )
            .order_by(Enrollment.requested_at, Enrollment.request_seq, Enrollment.id)
        ).all()
        stamped = dict(
            session.execute(
                select(Job.id, Job.created_at).where(Job.id.in_([r.job_id for r in rows]))
            ).all()
        )
    # The line's order is the intake's stamp: the enrollment carries its job's.
    assert all(row.requested_at == stamped[row.job_id] for row in rows)
    waiting = [row.ref for row in rows if row.status == "waitlisted"]
    return Line(
        order=[row.ref for row in rows],
        enrolled={row.ref for row in rows if row.status == "enrolled"},
        places={ref: place for place, ref in enumerate(waiting, start=1)},
    )


def inversions(sent: list[Sent], line: Line) -> list[tuple[str, str]]:
    """Pairs (a, b): a had its 202 before b was sent, yet b ended ahead of a."""
    return [
        (a.ref, b.ref)
        for a in sent
        for b in sent
        if a.acked < b.sent and line.rank(b.ref) < line.rank(a.ref)
    ]


PLACE = re.compile(r"waiting list \((?:position|place) (\d+)")


def mails_to(stack: Stack, refs: set[str]) -> dict[str, list[EmailMessage]]:
    found: dict[str, list[EmailMessage]] = {ref: [] for ref in refs}
    with stack.sink.lock:
        messages = list(stack.sink.messages)
    for message in messages:
        ref = message["To"].addresses[0].addr_spec.split("@")[0]
        if ref in found:
            found[ref].append(message)
    return found


def wait_for_mails(stack: Stack, refs: set[str], each: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while True:
        got = mails_to(stack, refs)
        if all(len(mails) >= each for mails in got.values()):
            return
        missing = sum(1 for mails in got.values() if len(mails) < each)
        assert time.monotonic() < deadline, f"{missing} people still wait for mail {each}"
        time.sleep(0.2)


def told_in_mail(mail: EmailMessage) -> tuple[str, int | None]:
    """(what the mail says: enrolled or waitlisted, the place it states)."""
    text = mail.get_body(("plain",))
    assert text is not None
    body = " ".join(text.get_content().split())
    if mail["Subject"].startswith("You are enrolled"):
        return "enrolled", None
    assert mail["Subject"].startswith("You are on the waiting list"), mail["Subject"]
    found = PLACE.search(body)
    assert found is not None, body
    return "waitlisted", int(found.group(1))


def job_results(stack: Stack, key: str, sent: list[Sent]) -> dict[str, dict[str, object]]:
    results = {}
    for request in sent:
        response = stack.client.get(f"/v1/jobs/{request.job_id}", headers=stack.auth(key))
        assert response.status_code == 200, response.text
        job = response.json()
        assert job["status"] == "succeeded", job
        results[request.ref] = job["result"]
    return results


def assert_results_tell_the_truth(stack: Stack, key: str, sent: list[Sent], line: Line) -> None:
    told = job_results(stack, key, sent)
    wrong = {
        ref: (result["status"], result["waitlist_position"])
        for ref, result in told.items()
        if (result["status"], result["waitlist_position"])
        != ("enrolled" if ref in line.enrolled else "waitlisted", line.places.get(ref))
    }
    assert wrong == {}, (
        f"{len(wrong)} job results tell a wrong place, e.g. {list(wrong.items())[:5]}"
    )


def test_the_line_is_fair_and_every_place_told_is_true(line_workers: Stack) -> None:
    stack = line_workers
    key = stack.key()
    for round_ in range(ROUNDS):
        # Given a 50-seat event with a waiting list
        event = published_event(
            stack, key, ref=f"rush-{round_}", max_subscriptions=SEATS, waiting_list=True
        )["id"]
        refs = [f"r{round_}-{i:03d}" for i in range(REQUESTS)]

        # When 400 people post their enrollment at once, 16 at a time
        sent = rush(stack, key, event, refs)
        wait_until_done(stack, [s.job_id for s in sent])

        # Then nobody who had their 202 before another was sent ends behind them
        line = true_line(stack, event)
        assert len(line.enrolled) == SEATS and len(line.places) == REQUESTS - SEATS
        wrong = inversions(sent, line)
        assert wrong == [], f"round {round_}: {len(wrong)} inversions, e.g. {wrong[:5]}"
        # And the seats are the first 50 in acceptance order, the rest wait in it
        assert set(line.order[:SEATS]) == line.enrolled

        # And every job result tells its true place
        assert_results_tell_the_truth(stack, key, sent, line)

        # And every person got one mail, stating the true outcome and place
        wait_for_mails(stack, set(refs), each=1)
        mails = mails_to(stack, set(refs))
        assert {ref: len(got) for ref, got in mails.items() if len(got) != 1} == {}
        wrong_mail = {
            ref: told_in_mail(got[0])
            for ref, got in mails.items()
            if told_in_mail(got[0])
            != ("enrolled" if ref in line.enrolled else "waitlisted", line.places.get(ref))
        }
        assert wrong_mail == {}, (
            f"round {round_}: {len(wrong_mail)} mails state a wrong place, "
            f"e.g. {list(wrong_mail.items())[:5]}"
        )

    # When, in the last round, five seated people are removed (their seats
    # promote the first five waiting)
    leaving = sorted(line.enrolled)[:LEAVING]
    removals = []
    for ref in leaving:
        response = stack.client.delete(
            f"/v1/events/{event}/attendees/{ref}", headers=stack.auth(key)
        )
        assert response.status_code == 202, response.text
        removals.append(response.json()["id"])
    wait_until_done(stack, removals)

    # Then the job results and the enrollment list tell the new, true places
    after = true_line(stack, event)
    assert after.enrolled == (line.enrolled - set(leaving)) | set(line.order[SEATS : SEATS + 5])
    assert_results_tell_the_truth(stack, key, [s for s in sent if s.ref not in leaving], after)
    listed: dict[str, int] = {}
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"status": "waitlisted", "limit": 200}
        if cursor:
            params["after"] = cursor
        page = stack.client.get(
            f"/v1/events/{event}/enrollments", params=params, headers=stack.auth(key)
        ).json()
        listed.update({e["attendee_ref"]: e["waitlist_position"] for e in page["items"]})
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert listed == after.places


# The two holes the rush fell through, each made to happen on purpose.


def lock_waiters(url: str, kind: str | None = None) -> int:
    """Backends of this database waiting for a lock (of one kind: ``advisory``)."""
    with engine_for(url).connect() as conn:
        found = conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock'"
                " AND (CAST(:kind AS text) IS NULL OR wait_event = :kind)"
            ),
            {"kind": kind},
        ).scalar_one()
    return int(found)


def holding_key(stack: Stack, event: str, idempotency_key: str) -> Session:
    """A session whose open transaction holds an uncommitted job under
    ``idempotency_key`` in the event's organisation: a request recording a
    job with that key waits at the unique index until the session ends."""
    with stack.db() as session:
        org = session.scalar(select(Event.organisation_id).where(Event.id == uuid.UUID(event)))
    assert org is not None
    holder = stack.sessions()
    holder.begin()
    submit_job(
        holder,
        organisation_id=org,
        type="enroll",
        payload={},
        now=utcnow(),
        idempotency_key=idempotency_key,
    )
    return holder


def in_thread(target: Callable[[], object]) -> Callable[[], object]:
    """Run target in a thread; the returned call joins it and re-raises."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = target()
        except BaseException as error:  # re-raised in the test's thread
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()

    def join() -> object:
        thread.join(timeout=60)
        assert not thread.is_alive(), "the thread did not finish"
        if "error" in outcome:
            raise outcome["error"]
        return outcome.get("value")

    return join


def test_a_worker_waiting_for_the_event_keeps_its_older_jobs_turn(postgres_url: str) -> None:
    # Given five queued jobs for two seats, and the event's lock held by a
    # transaction (as by a group being applied)
    db = sessions_for(postgres_url)
    org, event = new_event(db, seats=2)
    ids = submit(db, org, event, ["ada", "bob", "cy", "dee", "eve"])
    holder = db()
    holder.begin()
    holder.execute(select(Event.id).where(Event.id == event).with_for_update())

    # When eve's message and then ada's reach two workers, which both wait
    join_eve = in_thread(lambda: apply_job(db, ids[4], now=utcnow))
    wait_until(
        lambda: lock_waiters(postgres_url) == 1, timeout=30, what="eve's worker waits", every=0.02
    )
    join_ada = in_thread(lambda: apply_job(db, ids[0], now=utcnow))
    wait_until(
        lambda: lock_waiters(postgres_url) == 2,
        timeout=30,
        what="ada's worker waits too",
        every=0.02,
    )
    holder.rollback()
    holder.close()
    join_eve()
    join_ada()

    # Then eve's worker, first to get the event, still seated the oldest two
    with db() as session:
        seated = session.scalars(
            select(Enrollment.job_id).where(
                Enrollment.event_id == event, Enrollment.status == "enrolled"
            )
        ).all()
    assert sorted(map(str, seated)) == sorted(map(str, ids[:2]))


def test_a_request_stamped_first_is_served_first_though_it_commits_last(
    real_stack: Stack,
) -> None:
    # Given one seat, and ada's request held by the database after it was
    # stamped and before it commits: its one statement (the line's turn, the
    # stamp, the job's INSERT) waits at its Idempotency-Key, held meanwhile by
    # another transaction's uncommitted job (as a slow disk or a busy server
    # may hold a statement)
    stack = real_stack
    key = stack.key()
    event = published_event(stack, key, max_subscriptions=1, waiting_list=True)["id"]
    holder = holding_key(stack, event, "ada")

    def post_ada() -> str:
        with httpx.Client(base_url=stack.extra["server"].url, timeout=60) as http:
            body = {"attendee": {"ref": "ada", "email": "ada@example.org"}}
            response = http.post(
                f"/v1/events/{event}/enrollments",
                json=body,
                headers=stack.auth(key) | {"Idempotency-Key": "ada"},
            )
            assert response.status_code == 202, response.text
            return str(response.json()["id"])

    join_ada = in_thread(post_ada)
    wait_until(
        lambda: lock_waiters(stack.settings.database_url, "transactionid") == 1,
        timeout=30,
        what="ada's statement waits at its key",
        every=0.02,
    )

    # When bob's request, sent after ada's was stamped, is accepted and its
    # job taken by a worker while ada's still has not committed
    bob = enroll(stack, key, event, "bob")["id"]

    def bob_done_or_worker_waits() -> bool:
        with stack.db() as session:
            status = session.scalar(select(Job.status).where(Job.id == uuid.UUID(bob)))
        return status != "queued" or lock_waiters(stack.settings.database_url, "advisory") > 0

    wait_until(
        bob_done_or_worker_waits,
        timeout=30,
        what="bob's job is applied or waits for ada's",
        every=0.02,
    )
    holder.rollback()
    holder.close()
    ada = str(join_ada())
    wait_until_done(stack, [ada, bob])

    # Then the seat is ada's, and bob is first in line
    told = {ref: job(stack, key, j)["result"] for ref, j in [("ada", ada), ("bob", bob)]}
    assert (told["ada"]["status"], told["bob"]["status"]) == ("enrolled", "waitlisted")
    assert told["bob"]["waitlist_position"] == 1
