"""GraphQL against REST for the same read (issue 16), requests per second in
the same run:

1. ``offerEvent`` by id with the fields ``GET /v1/events/{id}`` carries (the
   seed type's fields but dates and trainers) against that route;
2. ``offerEvent`` with every field of the seed's type, dates and trainers
   too, against the three REST calls that carry as much (the event, its
   occurrences, its trainers).

    python -m bench bench_graphql
    BENCH_REQUESTS=300 BENCH_ROUNDS=3 python -m bench bench_graphql

Each round sends ``BENCH_REQUESTS`` requests per side, sides alternating after
a warm-up each (bench.harness), to one app served by uvicorn over HTTP on a
scratch PostgreSQL database: the same authentication and the same event with
two dates and two trainers. Goal: GraphQL at least 0.7x REST's requests/s.

3. a ``getCalendarEvents`` page of 50 (every field of an entry, its CTAs,
   the cursors and pageInfo) against ``GET /v1/calendar?first=50``, with the
   attendee's end-user token, over ``BENCH_CAL_ENTRIES`` (2,000) public and
   200 personal calendar entries (bench.bench_calendar's seed).
"""

from __future__ import annotations

import logging
import os
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from bench.harness import alternate, load_average, ratio_line, scratch_database, spread
from rollcall.domain.access.keys import SCOPES, create_api_key, get_or_create_organisation
from rollcall.domain.enrollment.attendee_rows import upsert_attendee_rows
from rollcall.domain.events.catalog import create_event
from rollcall.domain.events.trainers import add_trainers
from rollcall.models.db import sessions_for, transaction

NOW = datetime(2027, 1, 1, tzinfo=UTC)
SAME_FIELDS = """query($id: UUID) { offerEvent(id: $id) {
  id ref title type maxSubscriptions minSubscriptions
  enrolledCount spotsAvailable waitingList closingDate price cancelled publish
  accessTrainings { id } accessCourses { id } accessExternalContents { id }
  accessScorms { id } accessVideos { id } certificateId scoreThreshold } }"""
EVERY_FIELD = """query($id: UUID) { offerEvent(id: $id) {
  id ref title type dates { id startDate endDate } maxSubscriptions minSubscriptions
  enrolledCount spotsAvailable waitingList closingDate price cancelled publish
  trainers { id ref } accessTrainings { id } accessCourses { id }
  accessExternalContents { id } accessScorms { id } accessVideos { id }
  certificateId scoreThreshold } }"""


CALENDAR_PAGE = """query { getCalendarEvents(fromDate: "2030-01-01T00:00:00Z", first: 50) {
  edges { cursor node { id eventId eventRef type title timezone
    startsAt { utc local timezone } endsAt { utc local timezone } eventStatus cancelled
    personal enrollmentId enrollmentStatus trainer bookmarked capacity spotsAvailable
    ctas { action method href body scope bookmarked } } }
  pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"""


def _calendar_token(url: str) -> str:
    """An attendee's end-user token over a seeded calendar (bench_calendar's seed)."""
    from bench.bench_calendar import _seed as seed_calendar
    from rollcall.domain.access.attendee_tokens import create_attendee_token
    from rollcall.models import Attendee

    entries = int(os.environ.get("BENCH_CAL_ENTRIES", "2000"))
    _org_id, attendee_id = seed_calendar(url, entries, 200)
    with transaction(sessions_for(url)) as session:
        attendee = session.get(Attendee, attendee_id)
        assert attendee is not None
        _token, plaintext = create_attendee_token(session, attendee=attendee, now=NOW)
    return plaintext


def _seed(url: str) -> tuple[str, str]:
    """An organisation's key and one event (two dates, two trainers, content)."""
    with transaction(sessions_for(url)) as session:
        org = get_or_create_organisation(session, name="bench-graphql", now=NOW)
        _key, plaintext = create_api_key(session, organisation=org, scopes=list(SCOPES), now=NOW)
        upsert_attendee_rows(
            session,
            organisation_id=org.id,
            rows=[{"ref": ref, "email": f"{ref}@example.org", "name": ref} for ref in ("a", "b")],
            now=NOW,
            requested_at=NOW,
        )
        start = NOW + timedelta(days=30)
        event = create_event(
            session,
            organisation_id=org.id,
            fields={
                "name": "Starting Moment September",
                "type": "TRAINING",
                "ref": "bench",
                "max_subscriptions": 25,
                "access_trainings": ["3f1c2a9e-5b7d-4e0a-9c1f-2d8b6a4e7f10"],
            },
            dates=[
                (start, start + timedelta(hours=3)),
                (start + timedelta(days=7), start + timedelta(days=7, hours=3)),
            ],
            now=NOW,
        )
        add_trainers(session, event=event, ids=[], refs=["a", "b"])
        return plaintext, str(event.id)


def main() -> None:
    requests = int(os.environ.get("BENCH_REQUESTS", "300"))
    print(load_average())
    logging.getLogger("httpx").setLevel(logging.WARNING)
    with scratch_database("graphql") as url:
        os.environ.update(DATABASE_URL=url, REDIS_URL="stub://", LOG_LEVEL="WARNING")
        from rollcall.config.settings import Settings
        from rollcall.intake.app import create_app
        from tests.support.services import LiveServer

        key, event_id = _seed(url)
        token = {"Authorization": f"Bearer {_calendar_token(url)}"}
        headers = {"Authorization": f"Bearer {key}"}
        variables = {"id": event_id}
        with (
            LiveServer(create_app(Settings())) as server,
            httpx.Client(base_url=server.url, headers=headers, timeout=30) as client,
        ):

            def graphql(query: str) -> float:
                body = {"query": query, "variables": variables}
                started = time.perf_counter()
                for _ in range(requests):
                    reply: Any = client.post("/graphql", json=body)
                    assert reply.status_code == 200 and "errors" not in reply.json(), reply.text
                return time.perf_counter() - started

            def rest() -> float:
                started = time.perf_counter()
                for _ in range(requests):
                    event = client.get(f"/v1/events/{event_id}")
                    trainers = client.get(f"/v1/events/{event_id}/trainers")
                    dates = client.get(f"/v1/events/{event_id}/occurrences")
                    assert {event.status_code, trainers.status_code, dates.status_code} == {200}
                return time.perf_counter() - started

            def rest_event_only() -> float:
                started = time.perf_counter()
                for _ in range(requests):
                    assert client.get(f"/v1/events/{event_id}").status_code == 200
                return time.perf_counter() - started

            def calendar_graphql() -> float:
                started = time.perf_counter()
                for _ in range(requests):
                    reply: Any = client.post(
                        "/graphql", json={"query": CALENDAR_PAGE}, headers=token
                    )
                    page = reply.json()
                    assert "errors" not in page, reply.text
                    assert len(page["data"]["getCalendarEvents"]["edges"]) == 50
                return time.perf_counter() - started

            def calendar_rest() -> float:
                started = time.perf_counter()
                params = {"fromDate": "2030-01-01", "first": 50}
                for _ in range(requests):
                    reply = client.get("/v1/calendar", params=params, headers=token)
                    assert reply.status_code == 200 and len(reply.json()["entries"]) == 50
                return time.perf_counter() - started

            times = alternate(
                {
                    "graphql": lambda: graphql(SAME_FIELDS),
                    "rest": rest_event_only,
                    "graphql (all)": lambda: graphql(EVERY_FIELD),
                    "rest (3 calls)": rest,
                    "calendar graphql": calendar_graphql,
                    "calendar rest": calendar_rest,
                }
            )
    for name, values in times.items():
        rates = [requests / seconds for seconds in values]
        print(f"{name:18}: {spread(rates)} req/s   ({spread(values)} s per {requests})")
    # Time ratios baseline/ours = requests/s ours/baseline.
    print(
        ratio_line(
            "offerEvent vs GET /v1/events/{id}, req/s", times["rest"], times["graphql"], ">= 0.7x"
        )
    )
    print(
        ratio_line(
            "offerEvent (all) vs 3 REST calls, req/s",
            times["rest (3 calls)"],
            times["graphql (all)"],
            ">= 0.7x",
        )
    )
    print(
        ratio_line(
            "getCalendarEvents page of 50 vs GET /v1/calendar first=50, req/s",
            times["calendar rest"],
            times["calendar graphql"],
            ">= 0.7x",
        )
    )
    print(load_average())


if __name__ == "__main__":
    main()
