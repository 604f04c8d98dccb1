"""Calendar pages through real uvicorn under concurrent load, against a
constant route of the same app, and the page query's cost by depth.

Seeds an organisation with ``BENCH_CAL_ORG_ENTRIES`` public calendar entries
(default 100,000) and one attendee with ``BENCH_CAL_PERSONAL`` personal ones
(default 10,000) in a scratch PostgreSQL database (bench.harness), then
measures, sides alternating after a warm-up each:

1. requests/second of ``GET /v1/calendar?first=50&after=...`` (pages spread
   over the calendar, the attendee's token in the Authorization header)
   through uvicorn started as ``rollcall api`` starts it (INFO logs, JSON
   lines), loaded by ``wrk`` with ``BENCH_CAL_CONNECTIONS`` connections (32)
   for ``BENCH_CAL_SECONDS`` (5) per round, against the same app's constant
   route answering a page of 50 as bytes (``bench.calendar_app``).
   Goal (issue 19): >= 0.7.
2. the page query's cost (``list_calendar``) for page 1 against page 150
   (goal: within 1.5x, i.e. the cost does not grow with the cursor's depth).

Needs ``wrk`` (Debian: ``apt install wrk``). ``python -m bench bench_calendar``.
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.harness import (
    alternate,
    api_server,
    load_average,
    ratio_line,
    scratch_database,
    service_env,
    spread,
    wrk,
)

PAGE = 50
DEEP_PAGE = 150
BASE = datetime(2031, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _sizes() -> tuple[int, int, int]:
    org = int(os.environ.get("BENCH_CAL_ORG_ENTRIES", "100000"))
    personal = int(os.environ.get("BENCH_CAL_PERSONAL", "10000"))
    requests = int(os.environ.get("BENCH_CAL_REQUESTS", "300"))
    return org, personal, requests


def _seed(url: str, org_entries: int, personal: int) -> tuple[uuid.UUID, uuid.UUID]:
    """Core inserts (fast), then one rebuild fills the cache."""
    from sqlalchemy import insert, text

    from rollcall.domain.calendar.cache import rebuild_calendar
    from rollcall.models import Attendee, Enrollment, Event, Occurrence, Organisation
    from rollcall.models.db import sessions_for, transaction

    per_event = 1000
    factory = sessions_for(url)
    org_id, attendee_id = uuid.uuid4(), uuid.uuid4()
    with transaction(factory) as session:
        session.execute(insert(Organisation).values(id=org_id, name="bench", created_at=NOW))
        session.execute(
            insert(Attendee).values(
                id=attendee_id,
                organisation_id=org_id,
                ref="ada",
                email="ada@example.org",
                name="Ada",
                created_at=NOW,
                updated_at=NOW,
            )
        )
    plan = [("published", org_entries), ("draft", personal)]
    for status, total in plan:
        for first in range(0, total, per_event):
            count = min(per_event, total - first)
            event_id = uuid.uuid4()
            offset = timedelta(minutes=first // per_event % 60)
            with transaction(factory) as session:
                session.execute(
                    insert(Event).values(
                        id=event_id,
                        organisation_id=org_id,
                        name=f"{status} {first}",
                        type="TRAINING",
                        description="",
                        timezone="UTC",
                        status=status,
                        cancelled=False,
                        waiting_list=True,
                        max_subscriptions=30,
                        booked_per_date=False,
                        settings={},
                        enrolled_count=0,
                        waitlisted_count=0,
                        created_at=NOW,
                        updated_at=NOW,
                    )
                )
                session.execute(
                    insert(Occurrence),
                    [
                        {
                            "id": uuid.uuid4(),
                            "event_id": event_id,
                            "starts_at": BASE + offset + timedelta(hours=i),
                            "ends_at": BASE + offset + timedelta(hours=i, minutes=45),
                            "cancelled": False,
                            "enrolled_count": 0,
                            "waitlisted_count": 0,
                        }
                        for i in range(count)
                    ],
                )
                if status == "draft":
                    session.execute(
                        insert(Enrollment).values(
                            id=uuid.uuid4(),
                            organisation_id=org_id,
                            event_id=event_id,
                            attendee_id=attendee_id,
                            scope_key="event",
                            status="enrolled",
                            requested_at=NOW,
                            request_seq=0,
                            created_at=NOW,
                            updated_at=NOW,
                        )
                    )
    rebuild_calendar(factory, batch_size=20)
    if url.startswith("postgres"):
        # What autovacuum would do after a bulk load: planner statistics.
        with transaction(factory) as session:
            session.execute(text("ANALYZE"))
    return org_id, attendee_id


def _timed(fn: Any, repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


WRK_SCRIPT = """
paths = {%s}
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1], {["Authorization"] = "Bearer %s"})
end
"""


def main() -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("bench_calendar needs wrk (Debian: apt install wrk)")
    org_entries, personal, _requests = _sizes()
    seconds = int(os.environ.get("BENCH_CAL_SECONDS", "5"))
    print(load_average())
    with scratch_database("calendar") as url:
        _measure(url, org_entries, personal, seconds)
    print(load_average())


def _measure(url: str, org_entries: int, personal: int, seconds: int) -> None:
    from sqlalchemy import func, select

    from rollcall.config.settings import Settings
    from rollcall.domain.access.attendee_tokens import (
        EndUser,
        authenticate_end_user,
        create_attendee_token,
    )
    from rollcall.domain.calendar.cursor import encode_cursor
    from rollcall.domain.calendar.listing import list_calendar
    from rollcall.domain.calendar.query import CalendarQuery
    from rollcall.intake.calendar_schemas import calendar_json
    from rollcall.models import Attendee, CalendarEntry
    from rollcall.models.db import sessions_for, transaction

    started = time.perf_counter()
    _org_id, attendee_id = _seed(url, org_entries, personal)
    factory = sessions_for(url)
    with factory() as session:
        rows = session.scalar(select(func.count()).select_from(CalendarEntry))
    print(f"seeded {rows} cache rows in {time.perf_counter() - started:.1f}s")
    with transaction(factory) as session:
        attendee = session.get(Attendee, attendee_id)
        assert attendee is not None
        _token, plaintext = create_attendee_token(session, attendee=attendee, now=NOW)
    secret = Settings(database_url=url, redis_url="stub://").calendar_cursor_secret

    def query(cursor: Any) -> CalendarQuery:
        return CalendarQuery(
            from_date=datetime(2030, 1, 1, tzinfo=UTC),
            to_date=None,
            types=(),
            size=PAGE,
            backward=False,
            cursor=cursor,
        )

    # Cursors for every page up to DEEP_PAGE, by walking once.
    with factory() as session:
        user: EndUser = authenticate_end_user(session, plaintext, now=NOW)
        cursors: list[Any] = [None]
        for _ in range(DEEP_PAGE):
            page = list_calendar(
                session, user=user, query=query(cursors[-1]), now=NOW, secret=secret
            )
            cursors.append(page.items[-1].key)
        constant_page = list_calendar(
            session, user=user, query=query(cursors[10]), now=NOW, secret=secret
        )

    # 2. Query cost: page 1 against page 150, interleaved rounds.
    first_costs: list[float] = []
    deep_costs: list[float] = []
    with factory() as session:
        for _ in range(30):
            for cursor, costs in ((None, first_costs), (cursors[DEEP_PAGE - 1], deep_costs)):
                began = time.perf_counter()
                list_calendar(session, user=user, query=query(cursor), now=NOW, secret=secret)
                costs.append(time.perf_counter() - began)

    # 1. Real uvicorn, loaded by wrk: the calendar route against the constant one.
    workdir = Path(tempfile.mkdtemp(prefix="bench-calendar-"))
    (workdir / "page.json").write_bytes(calendar_json(constant_page))
    queries = [
        f"fromDate=2030-01-01&first={PAGE}"
        + (f"&after={encode_cursor(cursor, secret=secret)}" if cursor else "")
        for cursor in cursors
    ]
    scripts = {}
    for name, path in (("calendar", "/v1/calendar"), ("constant", "/bench/constant")):
        listed = ", ".join(f'"{path}?{q}"' for q in queries)
        scripts[name] = workdir / f"{name}.lua"
        scripts[name].write_text(WRK_SCRIPT % (listed, plaintext))
    env = {
        **service_env(url, "stub://", "smtp://127.0.0.1:1"),
        "CALENDAR_CURSOR_SECRET": secret,
    }
    connections = os.environ.get("BENCH_CAL_CONNECTIONS", "32")
    rates: dict[str, list[float]] = {}
    with api_server(env, workdir, workdir / "page.json") as port:

        def side(name: str) -> Callable[[], float]:
            def run() -> float:
                rate, _p50 = wrk(port, scripts[name], connections=connections, seconds=seconds)
                rates.setdefault(name, []).append(rate)
                return 1 / rate  # seconds per request: alternate() wants seconds

            return run

        times = alternate({"constant": side("constant"), "calendar": side("calendar")})
    first_ms = statistics.median(first_costs) * 1000
    deep_ms = statistics.median(deep_costs) * 1000
    print(f"uvicorn + wrk, {connections} connections, {seconds}s per round:")
    print(f"  constant route: {spread(rates['constant'][1:])} req/s")
    print(f"  calendar page : {spread(rates['calendar'][1:])} req/s")
    # Throughput ratio = constant seconds-per-request over calendar's.
    print(ratio_line("  calendar / constant req/s", times["constant"], times["calendar"], ">= 0.7"))
    print(f"page 1 query   {first_ms:8.2f} ms (median)")
    print(f"page {DEEP_PAGE} query {deep_ms:8.2f} ms (median)")
    print(f"ratio page {DEEP_PAGE}/page 1 {deep_ms / first_ms:8.2f}   (goal <= 1.5)")
    print(f"api log: {workdir / 'api.log'}")


if __name__ == "__main__":
    main()
