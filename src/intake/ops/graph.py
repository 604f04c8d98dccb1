"""An inline SVG bar chart of jobs per minute: no script, no CDN."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

WIDTH = 720
HEIGHT = 140
PAD_TOP = 10
PAD_BOTTOM = 18


@dataclass(frozen=True)
class Bar:
    x: float
    width: float
    ok_y: float
    ok_height: float
    failed_y: float
    failed_height: float
    title: str


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    peak: int
    total: int
    failed: int
    width: int = WIDTH
    height: int = HEIGHT
    first_label: str = ""
    last_label: str = ""


def minute_chart(series: list[tuple[datetime, int, int]]) -> Chart:
    """Stacked bars (succeeded below, failed on top) scaled to the busiest minute."""
    peak = max((processed for _minute, processed, _failed in series), default=0)
    scale = (HEIGHT - PAD_TOP - PAD_BOTTOM) / peak if peak else 0.0
    slot = WIDTH / max(len(series), 1)
    bars = []
    base = HEIGHT - PAD_BOTTOM
    for index, (minute, processed, failed) in enumerate(series):
        ok = processed - failed
        ok_height = ok * scale
        failed_height = failed * scale
        bars.append(
            Bar(
                x=round(index * slot + 1, 2),
                width=round(max(slot - 2, 1), 2),
                ok_y=round(base - ok_height, 2),
                ok_height=round(ok_height, 2),
                failed_y=round(base - ok_height - failed_height, 2),
                failed_height=round(failed_height, 2),
                title=f"{minute:%H:%M} UTC: {processed} processed, {failed} failed",
            )
        )
    return Chart(
        bars=bars,
        peak=peak,
        total=sum(processed for _m, processed, _f in series),
        failed=sum(failed for _m, _p, failed in series),
        first_label=f"{series[0][0]:%H:%M}" if series else "",
        last_label=f"{series[-1][0]:%H:%M}" if series else "",
    )
