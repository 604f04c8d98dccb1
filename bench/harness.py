"""What every benchmark shares: a scratch PostgreSQL database created and
dropped around the run (never one it empties), alternating sides with a
warm-up each, min/median/max over rounds, and the machine's load average.

    BENCH_SERVER_URL   the PostgreSQL server to create the scratch database on
                       (default postgresql://postgres@127.0.0.1:5432/postgres)
    BENCH_ROUNDS       timed rounds per side (default 3, at least 3)
"""

from __future__ import annotations

import os
import statistics
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg
from sqlalchemy.engine import make_url

from rollcall.models import migrate
from rollcall.models.db import dispose_all

SERVER_URL = os.environ.get("BENCH_SERVER_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def rounds() -> int:
    return max(3, int(os.environ.get("BENCH_ROUNDS", "3")))


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} ({os.cpu_count()} cores)"


@contextmanager
def scratch_database(prefix: str) -> Iterator[str]:
    """A fresh database migrated to head, dropped afterwards (even on failure)."""
    name = f"bench_{prefix}_{uuid.uuid4().hex[:8]}"
    server = make_url(SERVER_URL)
    plain = server.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = server.set(database=name).render_as_string(hide_password=False)
    try:
        migrate.upgrade(url)
        yield url
    finally:
        dispose_all()
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def alternate(
    sides: dict[str, Callable[[], float]], count: int | None = None
) -> dict[str, list[float]]:
    """Run each side once untimed (warm-up), then ``count`` timed rounds with
    the sides' order swapped every round; each call returns its own seconds."""
    count = count or rounds()
    names = list(sides)
    for name in names:
        sides[name]()
    times: dict[str, list[float]] = {name: [] for name in names}
    for index in range(count):
        order = names if index % 2 == 0 else names[::-1]
        for name in order:
            times[name].append(sides[name]())
    return times


def spread(values: list[float]) -> str:
    return f"min {min(values):.3f}  median {statistics.median(values):.3f}  max {max(values):.3f}"


def ratio_line(label: str, ours: list[float], baseline: list[float], goal: str) -> str:
    """Per-round ratios (round i of ours over round i of the baseline)."""
    ratios = [a / b for a, b in zip(ours, baseline, strict=True)]
    return f"{label}: ratio {spread(ratios)}x  (goal {goal})"
