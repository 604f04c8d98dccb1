"""The lifecycle policies of seed 001, table-tested: every transition and refusal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from rollcall.domain.events import lifecycle
from rollcall.models import Event, Occurrence

NOW = datetime(2027, 6, 1, 12, 0, tzinfo=UTC)


def event(status: str = "draft", cancelled: bool = False) -> Event:
    return Event(name="x", status=status, cancelled=cancelled, waitlisted_count=0)


def code(error: Exception | None) -> str | None:
    return getattr(error, "code", None)


EDITS = [
    # (status, cancelled, field, refusal code)
    ("draft", False, "name", None),
    ("draft", False, "registration_end", None),
    ("draft", False, "description", None),
    ("draft", False, "recurrence", None),
    ("published", False, "name", "EVENT_NOT_DRAFT"),
    ("published", False, "registration_end", "EVENT_NOT_DRAFT"),
    ("published", False, "timezone", "EVENT_NOT_DRAFT"),
    ("published", False, "recurrence", "EVENT_NOT_DRAFT"),
    ("published", False, "dates", "EVENT_NOT_DRAFT"),
    ("published", False, "description", None),
    ("published", False, "max_subscriptions", None),
    ("published", False, "price", None),
    ("completed", False, "description", "EVENT_COMPLETED"),
    ("completed", False, "name", "EVENT_COMPLETED"),
    ("completed", False, "max_subscriptions", "EVENT_COMPLETED"),
    ("draft", True, "description", "EVENT_CANCELLED"),
    ("published", True, "max_subscriptions", "EVENT_CANCELLED"),
]


@pytest.mark.parametrize(("status", "cancelled", "field", "expected"), EDITS)
def test_edit(status: str, cancelled: bool, field: str, expected: str | None) -> None:
    assert code(lifecycle.edit_refusal(event(status, cancelled), field)) == expected


TRANSITIONS = [
    # (action, status, cancelled, count, refusal code)
    ("publish", "draft", False, 0, None),
    ("publish", "published", False, 0, "EVENT_ALREADY_PUBLISHED"),
    ("publish", "completed", False, 0, "EVENT_COMPLETED"),
    ("publish", "draft", True, 0, "EVENT_CANCELLED"),
    ("unpublish", "published", False, 0, None),
    ("unpublish", "draft", False, 0, "EVENT_ALREADY_UNPUBLISHED"),
    ("unpublish", "completed", False, 0, "EVENT_COMPLETED"),
    ("unpublish", "published", False, 1, "EVENT_HAS_ENROLLMENTS"),
    ("unpublish", "published", True, 0, "EVENT_CANCELLED"),
    ("delete", "draft", False, 0, None),
    ("delete", "draft", True, 0, None),
    ("delete", "published", False, 0, "EVENT_IS_PUBLISHED"),
    ("delete", "completed", False, 0, "EVENT_COMPLETED"),
    ("delete", "draft", False, 2, "EVENT_HAS_ENROLLMENTS"),
    ("cancel", "draft", False, 0, None),
    ("cancel", "published", False, 0, None),
    ("cancel", "published", True, 0, "EVENT_ALREADY_CANCELLED"),
    ("cancel", "completed", False, 0, "EVENT_COMPLETED"),
]


@pytest.mark.parametrize(("action", "status", "cancelled", "count", "expected"), TRANSITIONS)
def test_transitions(
    action: str, status: str, cancelled: bool, count: int, expected: str | None
) -> None:
    subject = event(status, cancelled)
    refusal = {
        "publish": lambda: lifecycle.publish_refusal(subject),
        "unpublish": lambda: lifecycle.unpublish_refusal(subject, seats_taken=count),
        "delete": lambda: lifecycle.delete_refusal(subject, enrollments=count),
        "cancel": lambda: lifecycle.cancel_refusal(subject),
    }[action]()
    assert code(refusal) == expected


def occurrence(cancelled: bool = False, ends_in: timedelta = timedelta(days=1)) -> Occurrence:
    return Occurrence(
        starts_at=NOW + ends_in - timedelta(hours=1), ends_at=NOW + ends_in, cancelled=cancelled
    )


OCCURRENCE_CANCELS = [
    ("published", False, occurrence(), None),
    ("published", False, occurrence(cancelled=True), "OCCURRENCE_ALREADY_CANCELLED"),
    ("published", False, occurrence(ends_in=-timedelta(minutes=1)), "OCCURRENCE_ENDED"),
    ("published", True, occurrence(), "EVENT_CANCELLED"),
    ("completed", False, occurrence(), "EVENT_COMPLETED"),
]


@pytest.mark.parametrize(("status", "cancelled", "occ", "expected"), OCCURRENCE_CANCELS)
def test_cancel_occurrence(
    status: str, cancelled: bool, occ: Occurrence, expected: str | None
) -> None:
    refusal = lifecycle.occurrence_cancel_refusal(event(status, cancelled), occ, now=NOW)
    assert code(refusal) == expected


CAPACITY = [
    # (max, min, enrolled, refusal)
    (10, None, 3, None),
    (3, None, 3, None),
    (2, None, 3, "CAPACITY_BELOW_ENROLLED"),
    (None, None, 30, None),
    (5, 6, 0, "MIN_ABOVE_MAX"),
    (5, 5, 0, None),
]


@pytest.mark.parametrize(("max_", "min_", "enrolled", "expected"), CAPACITY)
def test_capacity(max_: int | None, min_: int | None, enrolled: int, expected: str | None) -> None:
    refusal = lifecycle.capacity_refusal(
        max_subscriptions=max_, min_subscriptions=min_, enrolled=enrolled
    )
    assert code(refusal) == expected


@pytest.mark.parametrize(
    ("on", "waitlisted", "expected"),
    [(True, 3, None), (False, 0, None), (False, 1, "WAITING_LIST_NOT_EMPTY")],
)
def test_waiting_list(on: bool, waitlisted: int, expected: str | None) -> None:
    assert code(lifecycle.waiting_list_refusal(waiting_list=on, waitlisted=waitlisted)) == expected


COMPLETION = [
    # (status, cancelled, last_end, due)
    ("published", False, NOW - timedelta(seconds=1), True),
    ("published", False, NOW, True),
    ("published", False, NOW + timedelta(seconds=1), False),
    ("published", False, None, False),  # endless rule
    ("published", True, NOW - timedelta(days=1), False),
    ("draft", False, NOW - timedelta(days=1), False),
    ("completed", False, NOW - timedelta(days=1), False),
]


@pytest.mark.parametrize(("status", "cancelled", "last_end", "due"), COMPLETION)
def test_completion(status: str, cancelled: bool, last_end: datetime | None, due: bool) -> None:
    assert (
        lifecycle.is_due_for_completion(event(status, cancelled), last_end=last_end, now=NOW) is due
    )
