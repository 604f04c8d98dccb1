"""Single enroll jobs spread over many events, at several worker process
counts (issue 19 goal 1), against Dramatiq's no-op actor at the same count.

``BENCH_SPREAD_JOBS`` (5,000) enroll jobs interleaved over
``BENCH_SPREAD_EVENTS`` (50) dated events of half as many seats as jobs each
(the rest waitlisted), sent through the intake's ``dispatch`` in chunks of
``BENCH_CHUNK`` (20) while ``rollcall.workers.actors`` runs with each count
of ``BENCH_SPREAD_PROCESSES`` (1,2,4) x ``BENCH_THREADS`` (8), timed until
every job is applied and every mail sent to a real SMTP sink (bench.enroll_load).
Goals: >= 0.5 of the no-op actor at each count; >= 1.6x from 1 to 2 processes.

    python -m bench bench_spread
"""

from __future__ import annotations

import os
import statistics
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

JOBS = int(os.environ.get("BENCH_SPREAD_JOBS", "5000"))
EVENTS = int(os.environ.get("BENCH_SPREAD_EVENTS", "50"))
PROCESSES = [int(p) for p in os.environ.get("BENCH_SPREAD_PROCESSES", "1,2,4").split(",")]
THREADS = int(os.environ.get("BENCH_THREADS", "8"))


def main() -> None:
    print(load_average())
    print(
        f"spread single enroll: {JOBS} jobs over {EVENTS} dated events, "
        f"{THREADS} threads per process, mails sent"
    )
    medians: dict[int, float] = {}
    with ExitStack() as stack:
        url = stack.enter_context(scratch_database("spread"))
        redis_url = stack.enter_context(redis_server())
        smtp_url = stack.enter_context(smtp_sink())
        logs = Path(tempfile.mkdtemp(prefix="bench-spread-"))
        seats = max(1, JOBS // EVENTS // 2)
        for processes in PROCESSES:
            times = measure(
                url,
                redis_url,
                smtp_url,
                logs,
                jobs=JOBS,
                events=EVENTS,
                seats=seats,
                processes=processes,
                threads=THREADS,
            )
            medians[processes] = statistics.median(times["enroll"])
            print(f"  {processes} process(es):")
            for side, unit in (("no-op", "msg/s"), ("enroll", "jobs/s")):
                best = JOBS / min(times[side])
                print(f"    {side:<7}: {spread(times[side])} s  ({best:.0f} {unit} at best)")
            print(
                ratio_line(
                    f"    {processes} process(es) enroll / no-op throughput",
                    times["no-op"],
                    times["enroll"],
                    ">= 0.5",
                )
            )
            print(f"    {load_average()}")
        if 1 in medians and 2 in medians:
            print(
                f"  scaling 1 -> 2 processes (median): {medians[1] / medians[2]:.2f}x"
                " (goal >= 1.6x)"
            )
        print(f"worker logs: {logs}")
    print(load_average())


if __name__ == "__main__":
    main()
