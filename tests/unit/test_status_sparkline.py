"""`rollcall status` draws each queue's recent throughput as a sparkline."""

from __future__ import annotations

import pytest

from rollcall.cli.status import sparkline


@pytest.mark.parametrize(
    ("values", "line"),
    [([], ""), ([0, 0], "  "), ([0, 4, 8], " ▄█"), ([1, 1], "██")],
)
def test_sparkline(values: list[int], line: str) -> None:
    assert sparkline(values) == line
