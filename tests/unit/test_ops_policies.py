"""Pure pieces of the dashboard, table-tested: session cookies, the minute chart."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from rollcall.config.settings import Settings
from rollcall.intake.ops.graph import minute_chart
from rollcall.intake.ops.session import make_cookie, read_cookie

KEY = uuid.UUID("12345678-1234-5678-1234-567812345678")
T0 = 1_800_000_000.0


@pytest.mark.parametrize(
    ("secret_now", "secret_then", "read_at", "expected"),
    [
        ("s1", "s1", T0 + 60, KEY),  # fresh
        ("s1", "s1", T0 + 12 * 3600 - 1, KEY),  # about to expire
        ("s1", "s1", T0 + 12 * 3600 + 1, None),  # expired
        ("s1", "s2", T0 + 60, None),  # signed with another secret
    ],
)
def test_cookie(secret_now: str, secret_then: str, read_at: float, expected: uuid.UUID) -> None:
    cookie = make_cookie(Settings(secret_key=secret_then), KEY, now=T0)
    assert read_cookie(Settings(secret_key=secret_now), cookie, now=read_at) == expected


@pytest.mark.parametrize("value", [None, "", "garbage", "a.b", "e30=.x"])
def test_malformed_cookies_are_refused(value: str | None) -> None:
    assert read_cookie(Settings(secret_key="s"), value) is None


def test_minute_chart_scales_to_the_busiest_minute() -> None:
    t = datetime(2027, 1, 1, 9, 0, tzinfo=UTC)
    chart = minute_chart([(t, 0, 0), (t, 4, 1), (t, 2, 0)])
    assert (chart.peak, chart.total, chart.failed) == (4, 6, 1)
    empty, busiest, half = chart.bars
    assert empty.ok_height == empty.failed_height == 0
    assert busiest.ok_height + busiest.failed_height == pytest.approx(112)  # full height
    assert busiest.failed_height == pytest.approx(28)  # a quarter of it failed
    assert half.ok_height == pytest.approx(56)
    assert "4 processed, 1 failed" in busiest.title
    assert minute_chart([]).bars == []
