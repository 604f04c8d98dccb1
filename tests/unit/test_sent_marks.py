"""messaging.sent_marks: concurrent senders' marks are written together,
none is lost, and a failed or interrupted write stops nobody's later marks.
The write is a stand-in here (tests/integration/test_intake_one_statement.py
has the real UPDATE against PostgreSQL)."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from rollcall.messaging.sent_marks import MARKS_MAX, SentMarks

T0 = datetime(2030, 1, 1, tzinfo=UTC)


class Recorder:
    """A write that records each statement's ids and time; the first one
    can be held until released."""

    def __init__(self, *, hold_first: bool = False) -> None:
        self.statements: list[tuple[list[uuid.UUID], datetime]] = []
        self.entered = threading.Event()
        self.release = threading.Event()
        if not hold_first:
            self.release.set()
        self.lock = threading.Lock()

    def __call__(self, ids: list[uuid.UUID], now: datetime) -> None:
        self.entered.set()
        assert self.release.wait(timeout=30)
        with self.lock:
            self.statements.append((list(ids), now))


def test_a_sender_alone_writes_its_own_mark_before_it_returns() -> None:
    marks, write = SentMarks(), Recorder()
    one, two = uuid.uuid4(), uuid.uuid4()

    marks.mark([one, two], T0, write)

    assert write.statements == [([one, two], T0)]


def test_marks_added_while_a_write_runs_go_in_the_leaders_next_statement() -> None:
    # Given a sender whose UPDATE is running (held inside the write)
    marks, write = SentMarks(), Recorder(hold_first=True)
    first = uuid.uuid4()
    leader = threading.Thread(target=marks.mark, args=([first], T0, write))
    leader.start()
    assert write.entered.wait(timeout=30)

    # When three more senders mark their rows meanwhile
    others = [uuid.uuid4() for _ in range(3)]
    for n, row in enumerate(others, start=1):
        marks.mark([row], T0 + timedelta(seconds=n), write)

    # Then each returned at once (the leader is still held), and once the
    # leader's statement is done it writes all three in one more, at the
    # latest of their times
    assert leader.is_alive()
    write.release.set()
    leader.join(timeout=30)
    assert write.statements == [([first], T0), (others, T0 + timedelta(seconds=3))]
    assert marks.statements == 2


def test_no_mark_is_lost_when_many_senders_race() -> None:
    marks, write = SentMarks(), Recorder()
    rows = [uuid.uuid4() for _ in range(4000)]

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(lambda row: marks.mark([row], T0, write), rows))

    written = [row for ids, _ in write.statements for row in ids]
    assert sorted(written) == sorted(rows)  # each once, none lost
    assert all(len(ids) <= MARKS_MAX for ids, _ in write.statements)


def test_a_failed_write_leaves_its_rows_and_the_next_sender_leads() -> None:
    marks = SentMarks()
    lost, later = uuid.uuid4(), uuid.uuid4()
    written: list[list[uuid.UUID]] = []

    def failing(ids: list[uuid.UUID], now: datetime) -> None:
        raise RuntimeError("the database refused")

    marks.mark([lost], T0, failing)  # logged, not raised: the 202 stands
    marks.mark([later], T0, lambda ids, now: written.append(ids))

    assert written == [[later]]


def test_an_interrupted_write_does_not_leave_a_leader_behind() -> None:
    marks = SentMarks()
    written: list[list[uuid.UUID]] = []

    def interrupted(ids: list[uuid.UUID], now: datetime) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        marks.mark([uuid.uuid4()], T0, interrupted)
    row = uuid.uuid4()
    marks.mark([row], T0, lambda ids, now: written.append(ids))

    assert written == [[row]]
