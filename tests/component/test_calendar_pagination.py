"""Keyset pagination over 1,000 entries, walked both ways while entries are added."""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from rollcall.models import Occurrence
from tests.support.calendar import (
    BASE,
    add_attendee,
    add_enrollment,
    add_event,
    calendar,
    issue_token,
    new_date,
    org_id,
)
from tests.support.stack import Stack

TOTAL = 1000
PAGE = 50


def _seed(stack: Stack) -> tuple[str, uuid.UUID]:
    """1,000 entries: 600 public dates of three events sharing their start times (ties
    broken by id), 400 personal dates of a draft event ada is enrolled in, and 100 of
    the public dates also personal (ada enrolled per date), which must appear once.
    Returns the key and an extra public event that dates are added to."""
    key = stack.key()
    with stack.db() as session:
        org = org_id(session)
        ada = add_attendee(session, org, "ada")
        publics = [
            add_event(
                session,
                org,
                name=f"Public {n}",
                minutes=30,
                starts=[BASE + timedelta(hours=i) for i in range(200)],
            )
            for n in range(3)
        ]
        mine = add_event(
            session,
            org,
            name="Mine",
            status="draft",
            starts=[BASE + timedelta(hours=i // 2, minutes=1 + i % 2) for i in range(400)],
        )
        add_enrollment(session, mine, ada)
        for occ in publics[0].occurrences[:100]:
            add_enrollment(session, publics[0], ada, scope_key=f"occ:{occ.id}")
        extra = add_event(session, org, name="Extra", starts=[])
        extra_id = extra.id
    return key, extra_id


def _insert_random(stack: Stack, event_id: uuid.UUID, rng: random.Random, count: int) -> None:
    with stack.db() as session:
        taken = set(session.scalars(select(Occurrence.starts_at)))
        added = 0
        while added < count:
            start = BASE + timedelta(minutes=rng.randrange(0, 220 * 60), seconds=rng.randrange(60))
            if start in taken:
                continue
            taken.add(start)
            added += 1
            session.add(new_date(event_id, start, timedelta(minutes=30)))


def _key(entry: dict[str, Any]) -> tuple[datetime, str]:
    return datetime.fromisoformat(entry["starts_at"]["utc"]), entry["id"]


def _walk(stack: Stack, token: str, event_id: uuid.UUID, *, backward: bool) -> list[Any]:
    rng = random.Random(6)
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"last": PAGE} if backward else {"first": PAGE}
        if cursor:
            params["before" if backward else "after"] = cursor
        response = calendar(stack, token, **params)
        assert response.status_code == 200, response.text
        body = response.json()
        entries = body["entries"]
        seen.extend(reversed(entries) if backward else entries)
        info = body["page_info"]
        more = info["has_previous_page"] if backward else info["has_next_page"]
        if not more:
            break
        # Entries are added (before and after the cursor) between every two pages
        _insert_random(stack, event_id, rng, 5)
        cursor = info["start_cursor"] if backward else info["end_cursor"]
    return seen


def test_forward_and_backward_walks_skip_and_repeat_nothing(component_stack: Stack) -> None:
    # Given 1,000 entries in ada's calendar
    key, extra_id = _seed(component_stack)
    token = issue_token(component_stack, key, "ada")
    first = calendar(component_stack, token, first=100).json()
    everything = _all(component_stack, token)
    original = {entry["id"] for entry in everything}
    assert len(everything) == len(original) == TOTAL  # the 100 public+personal dates once
    assert sum(entry["personal"] for entry in everything) == 500
    assert first["page_info"]["has_previous_page"] is False

    for backward in (False, True):
        # When the calendar is walked page by page while dates are being added
        seen = _walk(component_stack, token, extra_id, backward=backward)

        # Then every entry there at the start is seen exactly once, in order
        ids = [entry["id"] for entry in seen]
        assert len(ids) == len(set(ids)), "an entry was repeated"
        assert original <= set(ids), "an entry was skipped"
        keys = [_key(entry) for entry in seen]
        assert keys == (sorted(keys, reverse=True) if backward else sorted(keys))
        original = {entry["id"] for entry in _all(component_stack, token)}


def _all(stack: Stack, token: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"first": 100}
        if cursor:
            params["after"] = cursor
        body = calendar(stack, token, **params).json()
        out.extend(body["entries"])
        if not body["page_info"]["has_next_page"]:
            return out
        cursor = body["page_info"]["end_cursor"]


def _five_daily_dates(stack: Stack) -> str:
    """Attendee ada's token, and one event with dates on five days from BASE."""
    key = stack.key()
    with stack.db() as session:
        org = org_id(session)
        add_attendee(session, org, "ada")
        add_event(session, org, starts=[BASE + timedelta(days=i) for i in range(5)])
    return issue_token(stack, key, "ada")


def test_page_info_in_both_directions(component_stack: Stack) -> None:
    token = _five_daily_dates(component_stack)

    page1 = calendar(component_stack, token, first=2).json()
    assert page1["page_info"]["has_next_page"] is True
    assert page1["page_info"]["has_previous_page"] is False
    page2 = calendar(component_stack, token, first=2, after=page1["page_info"]["end_cursor"]).json()
    assert page2["page_info"]["has_previous_page"] is True
    page3 = calendar(component_stack, token, first=2, after=page2["page_info"]["end_cursor"]).json()
    assert len(page3["entries"]) == 1 and page3["page_info"]["has_next_page"] is False

    last = calendar(component_stack, token, last=2).json()
    assert [entry["id"] for entry in last["entries"]] == [
        entry["id"] for entry in (page2["entries"][1:] + page3["entries"])
    ]
    assert last["page_info"]["has_previous_page"] is True
    assert last["page_info"]["has_next_page"] is False
    back = calendar(component_stack, token, last=2, before=last["page_info"]["start_cursor"]).json()
    assert back["page_info"]["has_next_page"] is True
    assert [entry["id"] for entry in back["entries"]] == [
        page1["entries"][1]["id"],
        page2["entries"][0]["id"],
    ]

    bounded = calendar(
        component_stack,
        token,
        fromDate=(BASE + timedelta(days=1)).isoformat(),
        toDate=(BASE + timedelta(days=3)).isoformat(),
    ).json()
    assert len(bounded["entries"]) == 3


def test_date_range_edges_cut_pages_exactly(component_stack: Stack) -> None:
    # Given five daily dates d0..d4, and the range d1..d3
    token = _five_daily_dates(component_stack)
    every = calendar(component_stack, token).json()["entries"]
    day = [entry["id"] for entry in every]
    window = {
        "fromDate": (BASE + timedelta(days=1)).isoformat(),
        "toDate": (BASE + timedelta(days=3)).isoformat(),
    }

    def ids(page: dict[str, Any]) -> list[str]:
        return [entry["id"] for entry in page["entries"]]

    # Forward: the page at toDate ends there (d4 is outside, not a next page)
    first = calendar(component_stack, token, first=2, **window).json()
    assert ids(first) == day[1:3] and first["page_info"]["has_next_page"] is True
    end = first["page_info"]["end_cursor"]
    rest = calendar(component_stack, token, first=2, after=end, **window).json()
    assert ids(rest) == day[3:4] and rest["page_info"]["has_next_page"] is False

    # Backward: the page at fromDate ends there (d0 is outside)
    last = calendar(component_stack, token, last=2, **window).json()
    assert ids(last) == day[2:4] and last["page_info"]["has_previous_page"] is True
    start = last["page_info"]["start_cursor"]
    before = calendar(component_stack, token, last=2, before=start, **window).json()
    assert ids(before) == day[1:2] and before["page_info"]["has_previous_page"] is False

    # A cursor from outside the range starts the page at the range's edge
    outside = calendar(component_stack, token, first=2, after=every[0]["cursor"], **window).json()
    assert ids(outside) == day[1:3]
