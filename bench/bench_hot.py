"""One hot event (issue 19 goal 2): ``BENCH_HOT_JOBS`` (10,000) single enroll
jobs into one dated event of ``BENCH_HOT_SEATS`` (1,000) seats (the rest
waitlisted, in arrival order), sent through the intake's ``dispatch`` in
chunks while ``rollcall.workers.actors`` runs (``BENCH_HOT_PROCESSES`` 2 x
``BENCH_THREADS`` 8), timed until every job is applied and every mail sent;
against Dramatiq's no-op actor with the same processes and threads
(bench.enroll_load). Goal: >= 0.5.

    python -m bench bench_hot
"""

from __future__ import annotations

import os
import tempfile
from contextlib import ExitStack
from pathlib import Path

from bench.enroll_load import measure
from bench.harness import (
    load_average,
    ratio_line,
    redis_server,
    scratch_database,
    smtp_sink,
    spread,
)

JOBS = int(os.environ.get("BENCH_HOT_JOBS", "10000"))
SEATS = int(os.environ.get("BENCH_HOT_SEATS", "1000"))
PROCESSES = int(os.environ.get("BENCH_HOT_PROCESSES", "2"))
THREADS = int(os.environ.get("BENCH_THREADS", "8"))


def main() -> None:
    print(load_average())
    with ExitStack() as stack:
        url = stack.enter_context(scratch_database("hot"))
        redis_url = stack.enter_context(redis_server())
        smtp_url = stack.enter_context(smtp_sink())
        logs = Path(tempfile.mkdtemp(prefix="bench-hot-"))
        times = measure(
            url,
            redis_url,
            smtp_url,
            logs,
            jobs=JOBS,
            events=1,
            seats=SEATS,
            processes=PROCESSES,
            threads=THREADS,
        )
        print(
            f"hot event: {JOBS} jobs into one event of {SEATS} seats, "
            f"{PROCESSES} process(es) x {THREADS} threads, mails sent"
        )
        for side, unit in (("no-op", "msg/s"), ("enroll", "jobs/s")):
            best = JOBS / min(times[side])
            print(f"  {side:<7}: {spread(times[side])} s  ({best:.0f} {unit} at best)")
        print(ratio_line("  enroll / no-op throughput", times["no-op"], times["enroll"], ">= 0.5"))
        print(f"worker logs: {logs}")
    print(load_average())


if __name__ == "__main__":
    main()
