"""Recurrence rules, table-tested: each type, each end, exclusions, DST, leap days, the 31st."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from rollcall.domain.events.recurrence import expand, is_finite, last_end

FAR_PAST = datetime(2020, 1, 1, tzinfo=UTC)
FAR_FUTURE = datetime(2035, 1, 1, tzinfo=UTC)


def local_starts(rule: dict[str, Any], tz: str, *, end: datetime = FAR_FUTURE) -> list[str]:
    zone = ZoneInfo(tz)
    return [
        s.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")
        for s, _e in expand(rule, tz, start=FAR_PAST, end=end)
    ]


def utc_starts(rule: dict[str, Any], tz: str) -> list[str]:
    return [
        s.strftime("%Y-%m-%d %H:%M") for s, _e in expand(rule, tz, start=FAR_PAST, end=FAR_FUTURE)
    ]


def rule(type: str, starts_on: str, **extra: Any) -> dict[str, Any]:
    return {"type": type, "starts_on": starts_on, "duration_minutes": 60, **extra}


AFTER_3 = {"type": "after", "count": 3}

TYPES = [
    (
        "does_not_repeat",
        rule("does_not_repeat", "2027-05-03T09:00"),
        ["2027-05-03 09:00 CEST"],
    ),
    (
        "daily every 2 days, 3 times",
        rule("daily", "2027-05-03T09:00", interval=2, ends=AFTER_3),
        ["2027-05-03 09:00 CEST", "2027-05-05 09:00 CEST", "2027-05-07 09:00 CEST"],
    ),
    (
        "weekly on MO and TH until a date (inclusive)",
        rule(
            "weekly",
            "2027-05-03T18:30",
            weekdays=["MO", "TH"],
            ends={"type": "on", "date": "2027-05-13"},
        ),
        [
            "2027-05-03 18:30 CEST",
            "2027-05-06 18:30 CEST",
            "2027-05-10 18:30 CEST",
            "2027-05-13 18:30 CEST",
        ],
    ),
    (
        "weekly without weekdays: the start's weekday, every 2 weeks",
        rule("weekly", "2027-05-05T09:00", interval=2, ends=AFTER_3),
        ["2027-05-05 09:00 CEST", "2027-05-19 09:00 CEST", "2027-06-02 09:00 CEST"],
    ),
    (
        "monthly by month day",
        rule("monthly", "2027-01-15T10:00", month_day=15, ends=AFTER_3),
        ["2027-01-15 10:00 CET", "2027-02-15 10:00 CET", "2027-03-15 10:00 CET"],
    ),
    (
        "monthly on the 2nd Tuesday",
        rule("monthly", "2027-01-01T10:00", nth_weekday={"n": 2, "weekday": "TU"}, ends=AFTER_3),
        ["2027-01-12 10:00 CET", "2027-02-09 10:00 CET", "2027-03-09 10:00 CET"],
    ),
    (
        "monthly on the last Friday",
        rule("monthly", "2027-01-01T10:00", nth_weekday={"n": -1, "weekday": "FR"}, ends=AFTER_3),
        ["2027-01-29 10:00 CET", "2027-02-26 10:00 CET", "2027-03-26 10:00 CET"],
    ),
    (
        "schedule: explicit local starts, out of order",
        rule(
            "schedule",
            "2027-06-01T09:00",
            dates=["2027-06-10T14:00", "2027-06-01T09:00", "2027-06-03T09:00"],
        ),
        ["2027-06-01 09:00 CEST", "2027-06-03 09:00 CEST", "2027-06-10 14:00 CEST"],
    ),
    (
        "schedule: starts_on is a date too, as the README says (issue 14)",
        rule("schedule", "2027-06-01T09:00", dates=["2027-06-03T09:00", "2027-06-10T14:00"]),
        ["2027-06-01 09:00 CEST", "2027-06-03 09:00 CEST", "2027-06-10 14:00 CEST"],
    ),
    (
        "timeslots: two slots a day for two days",
        rule(
            "timeslots",
            "2027-06-01T00:00",
            timeslots=[
                {"start": "09:00", "duration_minutes": 30},
                {"start": "14:00", "duration_minutes": 60},
            ],
            ends={"type": "after", "count": 2},
        ),
        [
            "2027-06-01 09:00 CEST",
            "2027-06-01 14:00 CEST",
            "2027-06-02 09:00 CEST",
            "2027-06-02 14:00 CEST",
        ],
    ),
    (
        "exclusions drop local dates; ends.after counts before exclusions (RFC 5545)",
        rule("daily", "2027-05-03T09:00", ends=AFTER_3, exclusions=["2027-05-04"]),
        ["2027-05-03 09:00 CEST", "2027-05-05 09:00 CEST"],
    ),
]


@pytest.mark.parametrize(("rule_", "expected"), [t[1:] for t in TYPES], ids=[t[0] for t in TYPES])
def test_rule_types(rule_: dict[str, Any], expected: list[str]) -> None:
    assert local_starts(rule_, "Europe/Amsterdam") == expected


DST = [
    # 09:00 local stays 09:00 local over the change; the UTC time moves.
    (
        "Europe/Amsterdam spring",
        "Europe/Amsterdam",
        rule("daily", "2027-03-27T09:00", ends={"type": "after", "count": 2}),
        ["2027-03-27 08:00", "2027-03-28 07:00"],
    ),
    (
        "America/New_York fall",
        "America/New_York",
        rule("daily", "2027-11-06T09:00", ends={"type": "after", "count": 2}),
        ["2027-11-06 13:00", "2027-11-07 14:00"],
    ),
    (
        "Australia/Sydney autumn (April)",
        "Australia/Sydney",
        rule("weekly", "2027-03-28T09:00", ends={"type": "after", "count": 2}),
        ["2027-03-27 22:00", "2027-04-03 23:00"],
    ),
    # Non-existent local time (spring forward): shifted forward by the gap.
    (
        "Amsterdam 02:30 on the spring-forward day happens at 03:30 CEST",
        "Europe/Amsterdam",
        rule("daily", "2027-03-27T02:30", ends={"type": "after", "count": 3}),
        ["2027-03-27 01:30", "2027-03-28 01:30", "2027-03-29 00:30"],
    ),
    (
        "New York 02:30 on the spring-forward day happens at 03:30 EDT",
        "America/New_York",
        rule("does_not_repeat", "2027-03-14T02:30"),
        ["2027-03-14 07:30"],
    ),
    # Ambiguous local time (fall back): the first of the two instants.
    (
        "Amsterdam 02:30 on the fall-back day is the CEST one",
        "Europe/Amsterdam",
        rule("does_not_repeat", "2027-10-31T02:30"),
        ["2027-10-31 00:30"],
    ),
    (
        "Sydney 02:30 on the fall-back day is the AEDT one",
        "Australia/Sydney",
        rule("does_not_repeat", "2027-04-04T02:30"),
        ["2027-04-03 15:30"],
    ),
]


@pytest.mark.parametrize(("tz", "rule_", "expected"), [t[1:] for t in DST], ids=[t[0] for t in DST])
def test_dst(tz: str, rule_: dict[str, Any], expected: list[str]) -> None:
    assert utc_starts(rule_, tz) == expected


def test_nonexistent_time_lands_at_wall_clock_shifted_by_the_gap() -> None:
    (start, end), *_ = expand(
        rule("does_not_repeat", "2027-03-28T02:30"),
        "Europe/Amsterdam",
        start=FAR_PAST,
        end=FAR_FUTURE,
    )
    assert start.astimezone(ZoneInfo("Europe/Amsterdam")).strftime("%H:%M %Z") == "03:30 CEST"
    assert end - start == timedelta(minutes=60)


CALENDAR = [
    (
        "the 31st skips months without one",
        rule(
            "monthly", "2027-01-31T09:00", month_day=31, ends={"type": "on", "date": "2027-06-30"}
        ),
        ["2027-01-31", "2027-03-31", "2027-05-31"],
    ),
    (
        "month_day -1 is the last day of every month",
        rule("monthly", "2027-01-31T09:00", month_day=-1, ends={"type": "after", "count": 4}),
        ["2027-01-31", "2027-02-28", "2027-03-31", "2027-04-30"],
    ),
    (
        "day 29 monthly: February only in a leap year",
        rule(
            "monthly", "2027-12-29T09:00", month_day=29, ends={"type": "on", "date": "2028-03-31"}
        ),
        ["2027-12-29", "2028-01-29", "2028-02-29", "2028-03-29"],
    ),
    (
        "daily across a leap day",
        rule("daily", "2028-02-28T09:00", ends={"type": "after", "count": 3}),
        ["2028-02-28", "2028-02-29", "2028-03-01"],
    ),
    (
        "every 12 months from the 29th of February only hits leap years",
        rule(
            "monthly",
            "2028-02-29T09:00",
            month_day=29,
            interval=12,
            ends={"type": "on", "date": "2033-12-31"},
        ),
        ["2028-02-29", "2032-02-29"],
    ),
]


@pytest.mark.parametrize(
    ("rule_", "expected"), [t[1:] for t in CALENDAR], ids=[t[0] for t in CALENDAR]
)
def test_calendar_edges(rule_: dict[str, Any], expected: list[str]) -> None:
    assert [s[:10] for s in local_starts(rule_, "UTC")] == expected


ENDS = [
    ("never", rule("daily", "2027-01-01T09:00"), False),
    ("after", rule("daily", "2027-01-01T09:00", ends=AFTER_3), True),
    ("on", rule("daily", "2027-01-01T09:00", ends={"type": "on", "date": "2027-01-02"}), True),
    ("does_not_repeat", rule("does_not_repeat", "2027-01-01T09:00"), True),
    ("schedule", rule("schedule", "2027-01-01T09:00", dates=["2027-01-05T09:00"]), True),
]


@pytest.mark.parametrize(("rule_", "finite"), [t[1:] for t in ENDS], ids=[t[0] for t in ENDS])
def test_ends(rule_: dict[str, Any], finite: bool) -> None:
    assert is_finite(rule_) is finite


def test_never_ending_rule_is_cut_at_the_window() -> None:
    never = rule("daily", "2027-01-01T09:00")
    spans = expand(never, "UTC", start=FAR_PAST, end=datetime(2028, 1, 1, tzinfo=UTC))
    assert len(spans) == 365
    assert last_end(never, "UTC") is None


def test_last_end_of_finite_rules() -> None:
    assert last_end(rule("daily", "2027-01-01T09:00", ends=AFTER_3), "UTC") == datetime(
        2027, 1, 3, 10, 0, tzinfo=UTC
    )
    assert last_end(
        rule("weekly", "2027-01-01T09:00", ends={"type": "on", "date": "2027-01-31"}), "UTC"
    ) == datetime(2027, 1, 29, 10, 0, tzinfo=UTC)


def test_windows_split_the_same_occurrences() -> None:
    # Given an endless daily rule, expanding in two windows gives what one window gives
    daily = rule("daily", "2027-03-20T09:00")
    middle = datetime(2027, 3, 28, 7, 0, tzinfo=UTC)  # exactly the start on the DST day
    whole = expand(daily, "Europe/Amsterdam", start=FAR_PAST, end=datetime(2027, 4, 5, tzinfo=UTC))
    parts = expand(daily, "Europe/Amsterdam", start=FAR_PAST, end=middle) + expand(
        daily, "Europe/Amsterdam", start=middle, end=datetime(2027, 4, 5, tzinfo=UTC)
    )
    assert parts == whole
