"""CSV exports: an event's roster and a job's row errors, streamed, every cell
neutralised against spreadsheet formulas."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from rollcall.domain.exports import roster
from tests.support.factories import enroll, job, published_event
from tests.support.stack import Stack

HOSTILE_NAMES = {
    "eq": '=HYPERLINK("http://evil","x")',
    "plus": "+1+cmd|' /C calc'!A0",
    "minus": "-2+3",
    "at": "@SUM(A1:A2)",
    "comma": 'Lovelace, "Ada"',
}


def rows_of(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith("attachment; filename=")
    return list(csv.DictReader(io.StringIO(response.text, newline="")))


def enroll_named(stack: Stack, key: str, event: str, ref: str, name: str) -> None:
    body = {"attendee": {"ref": ref, "email": f"{ref}@example.org", "name": name}}
    response = stack.client.post(
        f"/v1/events/{event}/enrollments", json=body, headers=stack.auth(key)
    )
    assert response.status_code == 202, response.text
    stack.drain()


def test_roster_lists_every_enrollment_with_its_place(component_stack: Stack) -> None:
    # Given one seat: ada enrolled, bob and cy waitlisted, then dan removed
    key = component_stack.key()
    published_event(component_stack, key, ref="ev", max_subscriptions=1, waiting_list=True)
    for ref in ("ada", "bob", "cy", "dan"):
        enroll(component_stack, key, "ev", ref)
        component_stack.drain()
    removed = component_stack.client.delete(
        "/v1/events/ev/attendees/dan", headers=component_stack.auth(key)
    )
    assert removed.status_code == 202
    component_stack.drain()

    response = component_stack.client.get(
        "/v1/events/ev/enrollments.csv", headers=component_stack.auth(key)
    )

    rows = rows_of(response)
    assert list(rows[0]) == list(roster.ROSTER_HEADER)
    assert [(r["attendee_ref"], r["status"], r["waitlist_position"]) for r in rows] == [
        ("ada", "enrolled", ""),
        ("bob", "waitlisted", "1"),
        ("cy", "waitlisted", "2"),
        ("dan", "removed", ""),
    ]
    ada = rows[0]
    assert ada["email"] == "ada@example.org" and ada["name"] == "Ada"
    assert ada["enrolled_at"] and ada["requested_at"] and not ada["occurrence_id"]
    assert rows[3]["ended_at"]
    # The positions are the ones the API tells
    listed = component_stack.client.get(
        "/v1/events/ev/enrollments", headers=component_stack.auth(key)
    ).json()
    told = {item["attendee_ref"]: item["waitlist_position"] for item in listed["items"]}
    assert told["bob"] == 1 and told["cy"] == 2


def test_roster_names_the_date_or_the_session(component_stack: Stack) -> None:
    # Given an event booked per date with two dates, and an event with a session
    key = component_stack.key()
    auth = component_stack.auth(key)
    published_event(
        component_stack,
        key,
        ref="dated",
        max_subscriptions=1,
        waiting_list=True,
        booked_per_date=True,
        dates=[
            {"starts_at": "2031-03-01T09:00:00Z", "ends_at": "2031-03-01T10:00:00Z"},
            {"starts_at": "2031-03-08T09:00:00Z", "ends_at": "2031-03-08T10:00:00Z"},
        ],
    )
    dates = component_stack.client.get("/v1/events/dated/occurrences", headers=auth).json()["items"]
    first, second = dates[0]["id"], dates[1]["id"]
    for ref, occurrence in (("ada", first), ("bob", first), ("cy", second)):
        body = {
            "attendee": {"ref": ref, "email": f"{ref}@example.org"},
            "occurrence_id": occurrence,
        }
        assert (
            component_stack.client.post(
                "/v1/events/dated/enrollments", json=body, headers=auth
            ).status_code
            == 202
        )
        component_stack.drain()

    rows = rows_of(component_stack.client.get("/v1/events/dated/enrollments.csv", headers=auth))

    assert [
        (r["attendee_ref"], r["occurrence_id"], r["status"], r["waitlist_position"]) for r in rows
    ] == [
        ("ada", first, "enrolled", ""),
        ("bob", first, "waitlisted", "1"),
        ("cy", second, "enrolled", ""),
    ]
    assert rows[0]["occurrence_starts_at"] == "2031-03-01T09:00:00+00:00"
    assert all(not r["session_id"] for r in rows)

    published_event(
        component_stack, key, ref="parts", max_subscriptions=10,
        starts_at="2031-05-01T09:00:00+00:00", ends_at="2031-05-01T17:00:00+00:00",
    )  # fmt: skip
    part = component_stack.client.post(
        "/v1/events/parts/sessions", headers=auth, json={"name": "Morning", "capacity": 5}
    ).json()
    body = {"attendee": {"ref": "dee", "email": "dee@example.org"}, "session_id": part["id"]}
    assert (
        component_stack.client.post(
            "/v1/events/parts/enrollments", json=body, headers=auth
        ).status_code
        == 202
    )
    component_stack.drain()
    (row,) = rows_of(component_stack.client.get("/v1/events/parts/enrollments.csv", headers=auth))
    assert (row["session_id"], row["session_name"], row["status"]) == (
        part["id"],
        "Morning",
        "enrolled",
    )


def test_roster_cells_cannot_run_as_formulas(component_stack: Stack) -> None:
    key = component_stack.key()
    published_event(component_stack, key, ref="ev", max_subscriptions=50)
    for ref, name in HOSTILE_NAMES.items():
        enroll_named(component_stack, key, "ev", f"={ref}", name)

    response = component_stack.client.get(
        "/v1/events/ev/enrollments.csv", headers=component_stack.auth(key)
    )

    rows = {row["attendee_ref"]: row for row in rows_of(response)}
    for ref, name in HOSTILE_NAMES.items():
        row = rows[f"'={ref}"]  # the ref starts with = too
        expected = name.strip() if name.strip() != name else name
        stored = row["name"]
        assert not stored.startswith(("=", "+", "-", "@", "\t", "\r")), (ref, stored)
        if ref == "comma":
            assert stored == expected  # quoted by the csv module, read back whole
        else:
            assert stored.startswith("'") and stored[1:] in (name, name.strip()), (ref, stored)


def test_roster_of_another_organisation_or_without_scope_is_refused(component_stack: Stack) -> None:
    key = component_stack.key()
    published_event(component_stack, key, ref="ev")
    theirs = component_stack.key("globex")
    jobs_only = component_stack.key(scopes=["jobs:read"])
    other = component_stack.client.get(
        "/v1/events/ev/enrollments.csv", headers=component_stack.auth(theirs)
    )
    assert (other.status_code, other.json()["error"]["code"]) == (404, "EVENT_NOT_FOUND")
    scoped = component_stack.client.get(
        "/v1/events/ev/enrollments.csv", headers=component_stack.auth(jobs_only)
    )
    assert (scoped.status_code, scoped.json()["error"]["code"]) == (403, "INSUFFICIENT_SCOPE")
    reader = component_stack.key(scopes=["events:read"])
    empty = component_stack.client.get(
        "/v1/events/ev/enrollments.csv", headers=component_stack.auth(reader)
    )
    assert empty.text.splitlines() == [",".join(roster.ROSTER_HEADER)]


def test_roster_streams_in_batches(component_stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given more enrollments than one database batch and one CSV chunk
    key = component_stack.key()
    published_event(component_stack, key, ref="ev", max_subscriptions=2000)
    people = [{"ref": f"p{i:04}", "email": f"p{i}@example.org"} for i in range(1200)]
    accepted = component_stack.client.post(
        "/v1/events/ev/enrollments/bulk", json={"atomic": False, "attendees": people},
        headers=component_stack.auth(key),
    )  # fmt: skip
    assert accepted.status_code == 202
    component_stack.drain()
    monkeypatch.setattr(roster, "BATCH", 100)

    with component_stack.client.stream(
        "GET", "/v1/events/ev/enrollments.csv", headers=component_stack.auth(key)
    ) as response:
        chunks = list(response.iter_text())

    rows = list(csv.DictReader(io.StringIO("".join(chunks), newline="")))
    assert len(rows) == 1200 and len(chunks) > 2
    assert [r["attendee_ref"] for r in rows] == [p["ref"] for p in people]


def test_job_errors_csv_lists_the_failing_rows(component_stack: Stack) -> None:
    # Given a bulk job where rows 2, 3 and 5 fail
    key = component_stack.key()
    published_event(component_stack, key, ref="ev", max_subscriptions=10)
    enroll(component_stack, key, "ev", "ada")
    component_stack.drain()
    people = [
        {"ref": "bob", "email": "bob@example.org"},
        {"ref": "ada", "email": "ada@example.org"},
        {"ref": "=eve", "email": "nope"},
        {"ref": "cy", "email": "cy@example.org"},
        {"ref": "bob", "email": "bob@example.org"},
    ]
    accepted = component_stack.client.post(
        "/v1/events/ev/enrollments/bulk", json={"atomic": False, "attendees": people},
        headers=component_stack.auth(key),
    ).json()  # fmt: skip
    component_stack.drain()
    assert job(component_stack, key, accepted["id"])["status"] == "partially_succeeded"

    response = component_stack.client.get(
        f"/v1/jobs/{accepted['id']}/errors.csv", headers=component_stack.auth(key)
    )

    rows = rows_of(response)
    assert [(r["row"], r["attendee_ref"], r["code"]) for r in rows] == [
        ("2", "ada", "ALREADY_ENROLLED"),
        ("3", "'=eve", "VALIDATION_ERROR"),
        ("5", "bob", "DUPLICATE_ROW"),
    ]
    assert all(r["message"] for r in rows)
    # another organisation's key does not see it; an unknown job is JOB_NOT_FOUND
    theirs = component_stack.key("globex")
    hidden = component_stack.client.get(
        f"/v1/jobs/{accepted['id']}/errors.csv", headers=component_stack.auth(theirs)
    )
    assert (hidden.status_code, hidden.json()["error"]["code"]) == (404, "JOB_NOT_FOUND")
    # a job without errors: the header alone
    ok = enroll(component_stack, key, "ev", "dan")
    component_stack.drain()
    clean = component_stack.client.get(
        f"/v1/jobs/{ok['id']}/errors.csv", headers=component_stack.auth(key)
    )
    assert clean.text.strip() == "row,attendee_ref,code,message,details"
