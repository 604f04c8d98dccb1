"""Calendar pages: API requests/second against a constant page, and deep-page cost.

Seeds an organisation with ``BENCH_CAL_ORG_ENTRIES`` public calendar entries
(default 100,000) and one attendee with ``BENCH_CAL_PERSONAL`` personal ones
(default 10,000), then measures, in the same run:

1. requests/second of ``GET /v1/calendar?first=50&after=...`` on pages spread over
   the calendar, against the same app answering a constant, pre-built page of 50
   entries through the same authentication and response model (goal >= 0.5);
2. the page query's cost (``list_calendar``) for page 1 against page 150
   (goal: within 1.5x, i.e. the cost does not grow with the cursor's depth).

``BENCH_DATABASE_URL`` picks the database (its schema is DROPPED and recreated
on PostgreSQL); by default a SQLite file in a temporary directory.
``python -m bench bench_calendar``.
"""

from __future__ import annotations

import logging
import os
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

PAGE = 50
DEEP_PAGE = 150
BASE = datetime(2031, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _sizes() -> tuple[int, int, int]:
    org = int(os.environ.get("BENCH_CAL_ORG_ENTRIES", "100000"))
    personal = int(os.environ.get("BENCH_CAL_PERSONAL", "10000"))
    requests = int(os.environ.get("BENCH_CAL_REQUESTS", "300"))
    return org, personal, requests


def _database() -> str:
    url = os.environ.get("BENCH_DATABASE_URL")
    if url:
        from tests.support.services import reset_postgres

        if url.startswith("postgres"):
            reset_postgres(url)
            return url
        raise SystemExit("BENCH_DATABASE_URL must be PostgreSQL (SQLite is the default)")
    from rollcall.models import migrate

    path = Path(tempfile.mkdtemp(prefix="bench-calendar-")) / "bench.db"
    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    return url


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


def main() -> None:
    org_entries, personal, requests = _sizes()
    url = _database()
    os.environ["DATABASE_URL"] = url
    os.environ["REDIS_URL"] = "stub://"
    from fastapi import Depends, Response
    from fastapi.testclient import TestClient
    from sqlalchemy import func, select

    from rollcall.config.settings import get_settings
    from rollcall.domain.access.attendee_tokens import (
        EndUser,
        authenticate_end_user,
        create_attendee_token,
    )
    from rollcall.domain.calendar.listing import list_calendar
    from rollcall.domain.calendar.query import parse_calendar_query
    from rollcall.intake.app import create_app
    from rollcall.intake.calendar_schemas import CalendarOut, calendar_json
    from rollcall.intake.routes.calendar import end_user
    from rollcall.models import Attendee, CalendarEntry
    from rollcall.models.db import sessions_for, transaction

    started = time.perf_counter()
    _org_id, attendee_id = _seed(url, org_entries, personal)
    factory = sessions_for(url)
    with factory() as session:
        rows = session.scalar(select(func.count()).select_from(CalendarEntry))
    print(f"seeded {rows} cache rows in {time.perf_counter() - started:.1f}s ({url.split(':')[0]})")
    with transaction(factory) as session:
        attendee = session.get(Attendee, attendee_id)
        assert attendee is not None
        _token, plaintext = create_attendee_token(session, attendee=attendee, now=NOW)
    settings = get_settings()
    secret = settings.calendar_cursor_secret

    def query(cursor: Any) -> Any:
        return parse_calendar_query(
            from_date="2030-01-01", first=str(PAGE), secret=secret
        ).__class__(
            from_date=datetime(2030, 1, 1, tzinfo=UTC),
            to_date=None,
            types=(),
            size=PAGE,
            backward=False,
            cursor=cursor,
        )

    # Cursors for every page up to DEEP_PAGE, by walking once.
    with factory() as session:
        user: EndUser = authenticate_end_user(session, plaintext)
        cursors: list[Any] = [None]
        for _ in range(DEEP_PAGE):
            page = list_calendar(
                session, user=user, query=query(cursors[-1]), now=NOW, secret=secret
            )
            cursors.append(page.items[-1].key)
        constant_page = list_calendar(
            session, user=user, query=query(cursors[10]), now=NOW, secret=secret
        )

    # 2. Query cost: page 1 against page 150, median of interleaved rounds.
    first_costs: list[float] = []
    deep_costs: list[float] = []
    with factory() as session:
        for _ in range(max(requests // 10, 10)):
            first_costs += _timed(
                lambda: list_calendar(
                    session, user=user, query=query(None), now=NOW, secret=secret
                ),
                1,
            )
            deep_costs += _timed(
                lambda: list_calendar(
                    session,
                    user=user,
                    query=query(cursors[DEEP_PAGE - 1]),
                    now=NOW,
                    secret=secret,
                ),
                1,
            )

    # 1. API requests/second against the same app answering a constant page.
    app = create_app(settings)

    def constant() -> Any:
        # Serialised per request, as the real route does (not cached bytes).
        return Response(calendar_json(constant_page), media_type="application/json")

    # Same authentication (the end-user token lookup) and response model as the
    # real route; only the page itself is constant.
    app.add_api_route(
        "/bench/constant-page",
        constant,
        methods=["GET"],
        response_model=CalendarOut,
        dependencies=[Depends(end_user)],
    )

    from rollcall.domain.calendar.cursor import encode_cursor

    links = [
        {"fromDate": "2030-01-01", "first": PAGE}
        | ({"after": encode_cursor(cursor, secret=secret)} if cursor else {})
        for cursor in cursors
    ]
    headers = {"Authorization": f"Bearer {plaintext}"}
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per request otherwise
    api: list[float] = []
    base: list[float] = []
    with TestClient(app) as client:
        for i in range(requests):
            params = links[i % len(links)]
            api += _timed(lambda p=params: client.get("/v1/calendar", params=p, headers=headers), 1)
            base += _timed(
                lambda p=params: client.get("/bench/constant-page", params=p, headers=headers), 1
            )
        for path in ("/v1/calendar", "/bench/constant-page"):
            reply = client.get(path, params=links[-1], headers=headers)
            assert reply.status_code == 200 and len(reply.json()["entries"]) == PAGE, path
    api_rps = len(api) / sum(api)
    base_rps = len(base) / sum(base)
    first_ms = statistics.median(first_costs) * 1000
    deep_ms = statistics.median(deep_costs) * 1000
    print(f"calendar API         {api_rps:8.1f} req/s")
    print(f"constant page (base) {base_rps:8.1f} req/s")
    print(f"ratio api/base       {api_rps / base_rps:8.2f}   (goal >= 0.5)")
    print(f"page 1 query         {first_ms:8.2f} ms (median)")
    print(f"page {DEEP_PAGE} query       {deep_ms:8.2f} ms (median)")
    print(f"ratio page {DEEP_PAGE}/page 1 {deep_ms / first_ms:8.2f}   (goal <= 1.5)")


if __name__ == "__main__":
    main()
