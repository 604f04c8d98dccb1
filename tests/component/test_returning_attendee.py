"""A returning attendee whose details changed enrolls, on every path (SQLite).

The latest details win: the stored attendee takes what the newer request
sent; a value the request leaves empty keeps the stored one.
"""

from __future__ import annotations

import pytest

from rollcall.workers.actors import process_job
from tests.support.factories import published_event
from tests.support.returning import (
    AFTER,
    BEFORE,
    FIELDS,
    PATHS,
    confirmations_to,
    enroll_returning,
    finished_job,
    post_enroll,
    stored_attendee,
)
from tests.support.stack import Stack

CHANGES = [pytest.param({field: AFTER[field]}, id=field) for field in FIELDS] + [
    pytest.param({field: AFTER[field] for field in FIELDS}, id="all")
]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("changed", CHANGES)
def test_returning_attendee_with_changed_details_enrolls(
    component_stack: Stack, path: str, changed: dict[str, str]
) -> None:
    # Given ada enrolled in "first" with her old details
    # When she enrolls in "second" with one detail (or all) changed
    done = enroll_returning(component_stack, path, changed)

    # Then the job succeeded, she holds both seats, and her details are the new ones
    assert done["status"] == "succeeded", done
    key = component_stack.extra["key"]
    shown = stored_attendee(component_stack, key, "ada")
    assert {field: shown[field] for field in FIELDS} == {
        field: (BEFORE | changed)[field] for field in FIELDS
    }
    assert sorted(e["status"] for e in shown["enrollments"]) == ["enrolled", "enrolled"]


@pytest.mark.parametrize("path", PATHS)
def test_the_second_confirmation_goes_to_the_new_address_and_name(
    component_stack: Stack, path: str
) -> None:
    # When ada enrolls again with a new email and name
    done = enroll_returning(component_stack, path, {"email": AFTER["email"], "name": AFTER["name"]})
    assert done["status"] == "succeeded", done

    # Then the first confirmation went to the old address, the second to the new
    # one (both in Dutch: her locale, nl, did not change; bob has none: English)
    expected = [
        ("ada.lovelace@example.com", "Beste Ada Lovelace,"),
        ("ada@example.org", "Beste Ada,"),
    ]
    if path != "single":
        expected.append(("bob@example.org", "Hello Bob,"))
    assert confirmations_to(component_stack, len(expected)) == sorted(expected)


@pytest.mark.parametrize("path", PATHS)
def test_empty_values_keep_the_stored_details(component_stack: Stack, path: str) -> None:
    # When ada enrolls again naming only a new email (name, zone and locale left empty)
    changed = {"email": AFTER["email"], "name": "", "timezone": None, "locale": None}
    done = enroll_returning(component_stack, path, changed)

    # Then only the email changed
    assert done["status"] == "succeeded", done
    shown = stored_attendee(component_stack, component_stack.extra["key"], "ada")
    assert {field: shown[field] for field in FIELDS} == {
        field: (BEFORE | {"email": AFTER["email"]})[field] for field in FIELDS
    }


def test_an_older_request_applied_late_does_not_overwrite_newer_details(
    component_stack: Stack,
) -> None:
    # Given ada's older request (old details) and her newer one (new details),
    # accepted while no worker ran, and delivered newest first (a slow worker,
    # or a first attempt that failed)
    key = component_stack.extra["key"] = component_stack.key()
    published_event(component_stack, key, ref="first", max_subscriptions=5)
    published_event(component_stack, key, ref="second", max_subscriptions=5)
    component_stack.stop()
    older = post_enroll(component_stack, key, "first", "single", BEFORE)
    newer = post_enroll(component_stack, key, "second", "single", AFTER)
    component_stack.broker.flush_all()
    process_job.send(newer)
    process_job.send(older)

    # When the worker applies them in that order
    component_stack.start_worker(threads=1)
    assert finished_job(component_stack, key, newer)["status"] == "succeeded"
    assert finished_job(component_stack, key, older)["status"] == "succeeded"

    # Then the newer request's details are the ones stored
    shown = stored_attendee(component_stack, key, "ada")
    assert {field: shown[field] for field in FIELDS} == {field: AFTER[field] for field in FIELDS}
