"""The roster export on PostgreSQL over real HTTP: every row once, in line
order, read through a server-side cursor, cells neutralised."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from bench.bench_export import seed_roster
from rollcall.domain.exports import roster
from rollcall.models.db import sessions_for
from tests.support.stack import live_api


def test_roster_streams_every_row_through_a_server_side_cursor(
    monkeypatch: pytest.MonkeyPatch, postgres_url: str
) -> None:
    # Given 5,000 enrollments: 3,000 enrolled, then 2,000 waitlisted
    event_id, key = seed_roster(sessions_for(postgres_url), count=5000, waitlisted_from=3000)
    monkeypatch.setattr(roster, "BATCH", 500)
    cursors: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "row_number()" in statement:
            cursors.append(type(cursor).__name__)

    event.listen(Engine, "before_cursor_execute", note)
    try:
        # When the roster is streamed
        api = live_api(monkeypatch, database_url=postgres_url, smtp_url="smtp://127.0.0.1:9")
        path = f"/v1/events/{event_id}/enrollments.csv"
        with api as stack, stack.client.stream("GET", path, headers=stack.auth(key)) as response:
            assert response.status_code == 200
            assert response.headers["content-type"] == "text/csv; charset=utf-8"
            chunks = list(response.iter_text())
    finally:
        event.remove(Engine, "before_cursor_execute", note)

    # Then it came in many chunks, from a server-side (named) cursor
    assert len(chunks) > 10
    assert cursors and all("Server" in name for name in cursors), cursors
    rows = list(csv.DictReader(io.StringIO("".join(chunks), newline="")))
    assert len(rows) == 5000
    assert [r["attendee_ref"] for r in rows] == [f"u-{i:06}" for i in range(5000)]
    assert [r["status"] for r in rows].count("enrolled") == 3000
    assert [r["waitlist_position"] for r in rows[3000:]] == [str(n) for n in range(1, 2001)]
    assert all(r["waitlist_position"] == "" for r in rows[:3000])
    # every 100th name is a formula, exported as text
    assert rows[0]["name"] == '\'=HYPERLINK("x","0")' and rows[1]["name"] == "Attendee 1"
    assert rows[0]["enrolled_at"] == "2030-01-01T00:00:00+00:00"
