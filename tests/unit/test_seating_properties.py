"""Property-based tests of the pure capacity and waiting-list rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rollcall.domain.enrollment.seating import (
    Level,
    effective_capacity,
    free_seats,
    may_enroll_more,
    seats_grantable,
)

capacities = st.one_of(st.none(), st.integers(min_value=0, max_value=30))
levels = st.lists(
    st.builds(
        lambda cap, extra: Level(cap, extra if cap is None else min(extra, cap)),
        capacities,
        st.integers(min_value=0, max_value=30),
    ),
    min_size=1,
    max_size=3,
)


@given(levels, st.integers(min_value=0, max_value=50))
def test_granted_seats_fit_every_level_and_are_as_many_as_fit(
    rows: list[Level], requested: int
) -> None:
    granted = seats_grantable(rows, requested)
    assert 0 <= granted <= requested
    frees = [f for f in (free_seats(level) for level in rows) if f is not None]
    for free in frees:
        assert granted <= free
    assert granted == min([requested, *frees])


@given(levels)
def test_one_seat_is_grantable_only_when_every_level_has_room(rows: list[Level]) -> None:
    room = all(level.capacity is None or level.enrolled < level.capacity for level in rows)
    assert (seats_grantable(rows, 1) == 1) == room


@pytest.mark.parametrize(
    ("own", "event_max", "expected"),
    [(None, None, None), (None, 5, 5), (3, 5, 3), (7, None, 7), (0, 9, 0)],
)
def test_effective_capacity(own: int | None, event_max: int | None, expected: int | None) -> None:
    assert effective_capacity(own, event_max) == expected


@pytest.mark.parametrize(
    ("limit", "active", "allowed"), [(None, 99, True), (1, 0, True), (1, 1, False), (3, 2, True)]
)
def test_per_attendee_limit(limit: int | None, active: int, allowed: bool) -> None:
    assert may_enroll_more(limit, active) is allowed


@dataclass
class Book:
    """A scope driven only by the pure rules, as the database functions drive it:
    a request is seated when a seat is grantable, else waits if the list is on;
    a freed or added seat goes to the longest waiting."""

    capacity: int | None
    waiting_list: bool
    enrolled: set[int] = field(default_factory=set)
    waiting: list[tuple[tuple[datetime, int, str], int]] = field(default_factory=list)
    promoted: list[int] = field(default_factory=list)

    def level(self) -> list[Level]:
        return [Level(self.capacity, len(self.enrolled))]

    def enroll(self, who: int, at: datetime) -> None:
        if who in self.enrolled or any(w == who for _k, w in self.waiting):
            return
        if seats_grantable(self.level(), 1) == 1:
            self.enrolled.add(who)
        elif self.waiting_list:
            self.waiting.append(((at, 0, f"{who:06d}"), who))

    def leave(self, who: int) -> None:
        if who in self.enrolled:
            self.enrolled.discard(who)
            self.promote()
        else:
            self.waiting = [(k, w) for k, w in self.waiting if w != who]

    def promote(self) -> None:
        line = [who for _key, who in sorted(self.waiting)]
        for who in line[: seats_grantable(self.level(), len(line))]:
            self.enrolled.add(who)
            self.promoted.append(who)
        self.waiting = [(k, w) for k, w in self.waiting if w not in self.enrolled]

    def raise_capacity(self, by: int) -> None:
        if self.capacity is not None:
            self.capacity += by
            self.promote()


operations = st.lists(
    st.tuples(st.sampled_from(["enroll", "leave", "raise"]), st.integers(0, 25)),
    max_size=80,
)


@given(capacities, st.booleans(), operations)
def test_no_oversell_and_the_line_moves_first_come_first_served(
    capacity: int | None, waiting_list: bool, ops: list[tuple[str, int]]
) -> None:
    book = Book(capacity, waiting_list)
    start = datetime(2030, 1, 1, tzinfo=UTC)
    arrival: dict[int, datetime] = {}
    for step, (op, who) in enumerate(ops):
        at = start + timedelta(seconds=step)
        if op == "enroll":
            arrival.setdefault(who, at)
            book.enroll(who, at)
        elif op == "leave":
            book.leave(who)
        else:
            book.raise_capacity(who % 3)
        # Never more enrolled than capacity
        if book.capacity is not None:
            assert len(book.enrolled) <= book.capacity
        # Nobody waits while a seat is free
        if book.waiting:
            assert book.capacity is not None and len(book.enrolled) == book.capacity
        # The line is in arrival order, and nobody is in it twice or also seated
        keys = [k for k, _w in book.waiting]
        assert keys == sorted(keys)
        people = [w for _k, w in book.waiting]
        assert len(people) == len(set(people))
        assert not set(people) & book.enrolled
    if not waiting_list:
        assert book.waiting == [] and book.promoted == []
