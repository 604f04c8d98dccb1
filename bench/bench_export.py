"""Peak memory of the roster export, GET /v1/events/{id}/enrollments.csv, for
100,000 rows against 10,000 rows: streamed, it should not grow with the roster.

    python -m bench bench_export
    BENCH_SMALL=10000 BENCH_LARGE=100000 BENCH_ROUNDS=3 python -m bench bench_export

The API runs in this process (uvicorn in a thread, as in tests) on a scratch
PostgreSQL database (bench.harness); a client streams the CSV and throws the
chunks away. tracemalloc's peak, above what was allocated before the request,
is what one export cost the process: the app, uvicorn and the client together.
The growth of the peak RSS (reset before each export through
/proc/self/clear_refs) also counts C memory such as libpq's result buffers,
which a client-side cursor would fill with the whole roster.
For contrast, the same rows loaded at once (``.all()``, then the CSV text
built in memory) show what the measurement sees when memory does grow.
Goal (issue 18): the 100k export peaks at most 1.5x the 10k one.
"""

from __future__ import annotations

import os
import time
import tracemalloc
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy.orm import Session, sessionmaker

from bench.harness import load_average, ratio_line, rounds, scratch_database, spread
from rollcall.domain.access.keys import create_api_key
from rollcall.models import Attendee, Enrollment, Event, Organisation
from rollcall.models.bulk_insert import copy_rows
from rollcall.models.db import sessions_for, transaction

NOW = datetime(2030, 1, 1, tzinfo=UTC)
MIB = 1024 * 1024


def seed_roster(
    factory: sessionmaker[Session], *, count: int, waitlisted_from: int | None = None
) -> tuple[uuid.UUID, str]:
    """An organisation with one event of ``count`` enrollments (those from
    ``waitlisted_from`` on waitlisted, in order), written with COPY; the event
    id and an events:read key."""
    waitlisted_from = count if waitlisted_from is None else waitlisted_from
    with transaction(factory) as session:
        org = Organisation(name=f"bench-{uuid.uuid4().hex[:8]}", created_at=NOW)
        session.add(org)
        session.flush()
        _key, plaintext = create_api_key(session, organisation=org, scopes=["events:read"], now=NOW)
        event = Event(
            organisation_id=org.id,
            name="Roster",
            status="published",
            max_subscriptions=waitlisted_from,
            waiting_list=True,
            enrolled_count=waitlisted_from,
            waitlisted_count=count - waitlisted_from,
            created_at=NOW,
            updated_at=NOW,
        )
        session.add(event)
        session.flush()
        attendees = [
            {
                "id": uuid.uuid4(),
                "organisation_id": org.id,
                "ref": f"u-{i:06}",
                "email": f"u{i}@example.org",
                "name": f"Attendee {i}" if i % 100 else f'=HYPERLINK("x","{i}")',
                "timezone": "UTC",
                "locale": "en",
                "created_at": NOW,
                "updated_at": NOW,
            }
            for i in range(count)
        ]
        copy_rows(session.connection(), Attendee, attendees)
        enrollments = [
            {
                "id": uuid.uuid4(),
                "organisation_id": org.id,
                "event_id": event.id,
                "attendee_id": attendee["id"],
                "scope_key": "event",
                "status": "enrolled" if i < waitlisted_from else "waitlisted",
                "requested_at": NOW + timedelta(milliseconds=i),
                "request_seq": 0,
                "enrolled_at": NOW + timedelta(milliseconds=i) if i < waitlisted_from else None,
                "created_at": NOW,
                "updated_at": NOW,
            }
            for i, attendee in enumerate(attendees)
        ]
        copy_rows(session.connection(), Enrollment, enrollments)
        return event.id, plaintext


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith(field + ":"))
    return int(line.split()[1])


def _reset_rss_peak() -> bool:
    """Reset the process's peak RSS (Linux: clear_refs 5); False where unsupported."""
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
        return True
    except OSError:
        return False


def _peak(run: Callable[[], int]) -> tuple[int, int | None, int, float]:
    """(Python peak bytes above the start, RSS peak bytes above the start or
    None, rows, seconds) of one call. RSS also sees C allocations (libpq's
    result buffers), which tracemalloc does not."""
    tracemalloc.reset_peak()
    before = tracemalloc.get_traced_memory()[0]
    rss = _reset_rss_peak()
    rss_before = _status_kib("VmRSS") if rss else 0
    started = time.perf_counter()
    rows = run()
    seconds = time.perf_counter() - started
    python_peak = tracemalloc.get_traced_memory()[1] - before
    rss_peak = (_status_kib("VmHWM") - rss_before) * 1024 if rss else None
    return python_peak, rss_peak, rows, seconds


def main() -> None:
    from rollcall.config.settings import Settings
    from rollcall.domain.exports.csv_cells import csv_chunks
    from rollcall.domain.exports.roster import ROSTER_HEADER, iter_roster
    from rollcall.intake.app import create_app
    from tests.support.services import LiveServer

    small = int(os.environ.get("BENCH_SMALL", "10000"))
    large = int(os.environ.get("BENCH_LARGE", "100000"))
    print(load_average())
    with scratch_database("export") as url:
        factory = sessions_for(url)
        sizes = {small: seed_roster(factory, count=small, waitlisted_from=small // 2)}
        sizes[large] = seed_roster(factory, count=large, waitlisted_from=large // 2)
        with factory() as session:
            organisation_of = {
                size: session.get_one(Event, event_id).organisation_id
                for size, (event_id, _key) in sizes.items()
            }
        settings = Settings(database_url=url, redis_url="stub://")
        with (
            LiveServer(create_app(settings)) as server,
            httpx.Client(base_url=server.url, timeout=600) as client,
        ):

            def streamed(size: int) -> Callable[[], int]:
                event_id, key = sizes[size]

                def run() -> int:
                    lines = 0
                    with client.stream(
                        "GET",
                        f"/v1/events/{event_id}/enrollments.csv",
                        headers={"Authorization": f"Bearer {key}"},
                    ) as response:
                        assert response.status_code == 200, response.read()
                        for chunk in response.iter_bytes():
                            lines += chunk.count(b"\n")
                    return lines - 1

                return run

            def loaded(size: int) -> Callable[[], int]:
                event_id, _key = sizes[size]

                def run() -> int:
                    with factory() as session:
                        rows = list(
                            iter_roster(
                                session,
                                organisation_id=organisation_of[size],
                                event_id=event_id,
                                batch=size,
                            )
                        )
                        text = "".join(csv_chunks(ROSTER_HEADER, rows, rows_per_chunk=size))
                    return text.count("\n") - 1

                return run

            sides = {
                f"streamed {small}": streamed(small),
                f"streamed {large}": streamed(large),
                f"loaded {small}": loaded(small),
                f"loaded {large}": loaded(large),
            }
            for run in sides.values():  # warm-up: imports, pools, plans
                run()
            tracemalloc.start()
            peaks: dict[str, list[float]] = {name: [] for name in sides}
            rss_peaks: dict[str, list[float]] = {name: [] for name in sides}
            seconds: dict[str, list[float]] = {name: [] for name in sides}
            names = list(sides)
            for index in range(rounds()):
                for name in names if index % 2 == 0 else names[::-1]:
                    peak, rss_peak, rows, took = _peak(sides[name])
                    expected = small if str(small) == name.split()[-1] else large
                    assert rows == expected, (name, rows)
                    peaks[name].append(peak / MIB)
                    if rss_peak is not None:
                        rss_peaks[name].append(max(rss_peak, 1) / MIB)
                    seconds[name].append(took)
            tracemalloc.stop()
    print(f"rows: {small} and {large}; peak MiB above the start of each export (tracemalloc)")
    for name in names:
        print(f"{name:>16}: python peak {spread(peaks[name])} MiB, time {spread(seconds[name])} s")
        if rss_peaks[name]:
            print(f"{'':>16}  RSS growth {spread(rss_peaks[name])} MiB")
    print(
        ratio_line(
            f"streamed {large} vs {small}",
            peaks[f"streamed {large}"],
            peaks[f"streamed {small}"],
            "<= 1.5x",
        )
    )
    if rss_peaks[f"streamed {large}"]:
        growth = max(rss_peaks[f"streamed {large}"]) - min(rss_peaks[f"streamed {small}"])
        print(f"streamed RSS growth {large} minus {small}: at most {growth:.1f} MiB (goal < 8 MiB)")
    print(
        ratio_line(
            f"loaded at once {large} vs {small} (contrast)",
            peaks[f"loaded {large}"],
            peaks[f"loaded {small}"],
            "none: shows growth",
        )
    )
    print(load_average())


if __name__ == "__main__":
    main()
