"""Properties of rule expansion over random rules, zones and windows (hypothesis)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from rollcall.domain.events.recurrence import WEEKDAY_CODES, expand

ZONES = ["Europe/Amsterdam", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "UTC"]


@st.composite
def rules(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["daily", "weekly", "monthly"]))
    start = draw(
        st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2029, 12, 31))
    ).replace(second=0, microsecond=0)
    rule: dict[str, Any] = {
        "type": kind,
        "starts_on": start.isoformat(),
        "duration_minutes": draw(st.integers(1, 600)),
        "interval": draw(st.integers(1, 4)),
        "ends": draw(st.sampled_from([{"type": "never"}, {"type": "after", "count": 7}])),
    }
    if kind == "weekly":
        rule["weekdays"] = draw(st.lists(st.sampled_from(WEEKDAY_CODES), min_size=1, unique=True))
    if kind == "monthly":
        rule["month_day"] = draw(st.sampled_from([1, 15, 29, 30, 31, -1]))
    return rule


@settings(max_examples=150, deadline=None)
@given(rules(), st.sampled_from(ZONES), st.integers(1, 400))
def test_local_wall_clock_is_kept_and_windows_compose(
    rule: dict[str, Any], tz: str, split_days: int
) -> None:
    zone = ZoneInfo(tz)
    begin = datetime(2025, 12, 1, tzinfo=UTC)
    end = datetime(2031, 1, 1, tzinfo=UTC)
    whole = expand(rule, tz, start=begin, end=end)
    wanted = datetime.fromisoformat(rule["starts_on"]).time()

    for starts, ends in whole:
        # Every start is at the rule's local time, unless that time does not
        # exist that day; then it is shifted forward by the gap (at most 1 hour here).
        local = starts.astimezone(zone)
        naive = datetime.combine(local.date(), wanted)
        exists = (
            naive.replace(tzinfo=zone).astimezone(UTC).astimezone(zone).replace(tzinfo=None)
            == naive
        )
        if exists:
            assert local.time().replace(tzinfo=None) == wanted
        else:
            gap = datetime.combine(local.date(), local.time()) - naive
            assert timedelta(0) < gap <= timedelta(hours=1)
        assert ends - starts == timedelta(minutes=rule["duration_minutes"])

    # Sorted, unique, and any split of the window gives the same occurrences
    assert [s for s, _e in whole] == sorted({s for s, _e in whole})
    middle = begin + timedelta(days=split_days * 4)
    assert (
        expand(rule, tz, start=begin, end=middle) + expand(rule, tz, start=middle, end=end) == whole
    )
    if rule["ends"]["type"] == "after":
        assert len(whole) <= 7
