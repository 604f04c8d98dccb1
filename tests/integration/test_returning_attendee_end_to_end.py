"""A returning attendee with changed details, on real parts: HTTP -> PostgreSQL
-> Redis -> worker -> SMTP sink, on the single, JSON bulk and CSV bulk paths."""

from __future__ import annotations

import pytest

from tests.support.returning import (
    AFTER,
    FIELDS,
    PATHS,
    confirmations_to,
    enroll_returning,
    stored_attendee,
)
from tests.support.stack import Stack


@pytest.mark.parametrize("path", PATHS)
def test_returning_attendee_with_new_details_enrolls_and_is_mailed_there(
    real_stack: Stack, path: str
) -> None:
    # Given ada enrolled in "first" with her old details
    # When she enrolls in "second" with a new name, email, time zone and locale
    done = enroll_returning(real_stack, path, {field: AFTER[field] for field in FIELDS})

    # Then the job succeeded at its first attempt, the latest details are stored,
    # and the second confirmation went to the new address under the new name
    assert (done["status"], done["errors"], done["attempts"]) == ("succeeded", [], 1), done
    shown = stored_attendee(real_stack, real_stack.extra["key"], "ada")
    assert {field: shown[field] for field in FIELDS} == {field: AFTER[field] for field in FIELDS}
    assert sorted(e["status"] for e in shown["enrollments"]) == ["enrolled", "enrolled"]
    expected = [
        ("ada.lovelace@example.com", "Hello Ada Lovelace,"),  # her new locale: en-US
        ("ada@example.org", "Beste Ada,"),  # her old one: nl
    ]
    if path != "single":
        expected.append(("bob@example.org", "Hello Bob,"))
    real_stack.drain()
    assert confirmations_to(real_stack, len(expected)) == sorted(expected)
