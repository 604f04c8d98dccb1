"""The benchmarks still run, at toy sizes (their figures are not checked:
timing thresholds never go into tests; README "Benchmarks" has the figures).

Each one must print its ratio line against a baseline measured in the same
run, and its load average, and leave no scratch database behind.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from tests.support.services import RedisServer

ROOT = Path(__file__).resolve().parents[2]

TOY = {
    "BENCH_SMOKE": "1",
    "BENCH_ROUNDS": "1",
    "BENCH_JOBS": "30",
    "BENCH_EVENTS": "3",
    "BENCH_BULK_ROWS": "60",
    "BENCH_REMINDER_RECIPIENTS": "40",
    "BENCH_DAYS": "20",
    "BENCH_CAL_ORG_ENTRIES": "8000",
    "BENCH_CAL_PERSONAL": "200",
    "BENCH_CAL_SECONDS": "3",
    "BENCH_INTAKE_SECONDS": "2",
    "BENCH_INTAKE_CONNECTIONS": "4",
    "BENCH_SPREAD_JOBS": "20",
    "BENCH_SPREAD_EVENTS": "2",
    "BENCH_SPREAD_PROCESSES": "1",
    "BENCH_HOT_JOBS": "20",
    "BENCH_HOT_SEATS": "5",
    "BENCH_E2E_RATE": "10",
    "BENCH_E2E_SECONDS": "0.3",
    "BENCH_GROWTH_SIZES": "100,300,1000",
    "BENCH_GROWTH_JOBS": "20",
    "BENCH_GROWTH_EVENTS": "2",
    "BENCH_GROWTH_CAL_SIZES": "200,2000",
    "BENCH_GROWTH_CAL_REQUESTS": "5",
}


def _scratch_databases(server: str, name: str) -> set[str]:
    """The scratch databases of benchmark ``name`` (``bench_<prefix>_<hex>``;
    another run's benchmarks may come and go meanwhile)."""
    prefix = name.removeprefix("bench_")
    with psycopg.connect(server, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", (f"bench\\_{prefix}\\_%",)
        )
        return {row[0] for row in rows}


@pytest.mark.parametrize(
    "name",
    [
        "bench_expand",
        "bench_enroll",
        "bench_reminders",
        "bench_calendar",
        "bench_spread",
        "bench_hot",
        "bench_e2e",
        "bench_intake",
        "bench_growth",
    ],
)
def test_a_benchmark_prints_its_ratios_and_cleans_up(
    name: str, postgres_database: str, redis_server: RedisServer
) -> None:
    if name in ("bench_calendar", "bench_intake") and shutil.which("wrk") is None:
        pytest.skip(f"{name} needs wrk (.ci/run installs it)")
    server = postgres_database.rsplit("/", 1)[0] + "/postgres"
    before = _scratch_databases(server, name)
    env = {**os.environ, **TOY, "BENCH_SERVER_URL": server, "TEST_REDIS_URL": redis_server.url}

    # When the benchmark runs as the README says
    done = subprocess.run(
        [sys.executable, "-m", "bench", name],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )

    # Then it ends well, prints ratio lines with their goal and the load
    # average, and drops its scratch database
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    ratios = [line for line in done.stdout.splitlines() if ": ratio min " in line]
    assert ratios and all("(goal " in line for line in ratios), done.stdout
    if name == "bench_growth":  # the curve: a point for each size past the smallest
        assert len(ratios) == 2 + 1, done.stdout
    assert "load average" in done.stdout
    assert _scratch_databases(server, name) <= before
