"""``POST /v1/events/{id}/enrollments`` through real uvicorn under concurrent
load, against a constant route of the same app (issue 19, the intake side).

A scratch PostgreSQL database (bench.harness) holds one organisation, one
published dated event and an API key with ``students:write``; Redis is
BENCH_REDIS_URL / TEST_REDIS_URL or a private one (no worker consumes: the
intake's own work is measured, the enqueue included). uvicorn is started as
``rollcall api`` starts it (INFO logs, JSON lines, ``bench.calendar_app``),
and loaded by ``wrk`` with ``BENCH_INTAKE_CONNECTIONS`` connections (32) for
``BENCH_INTAKE_SECONDS`` (5) per round, sides alternating after a warm-up:

- enroll: each request a new attendee ref (a new job, a new outbox row, one
  enqueue), the API key in the Authorization header, answered 202;
- constant: ``POST /bench/constant`` with the same body and headers, answered
  the bytes of a job as the enroll route answers it (no database, no Redis).

Prints requests/s and p50 latency per side, the ratios (goals: req/s >= 0.5,
p50 <= 2x), and the load average. Needs ``wrk``.

    python -m bench bench_intake
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from bench.harness import (
    alternate,
    api_server,
    load_average,
    ratio_line,
    redis_server,
    scratch_database,
    service_env,
    spread,
    wrk,
)

CONNECTIONS = os.environ.get("BENCH_INTAKE_CONNECTIONS", "32")
SECONDS = int(os.environ.get("BENCH_INTAKE_SECONDS", "5"))

WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer %s"
wrk.headers["Content-Type"] = "application/json"
math.randomseed(os.time() + math.floor(os.clock() * 1000000))
request = function()
  local ref = "b-" .. math.random(1, 2000000000) .. "-" .. math.random(1, 2000000000)
  local body = '{"attendee": {"ref": "' .. ref .. '", "email": "' .. ref
    .. '@example.org", "name": "Bench"}}'
  return wrk.format(nil, "%s", nil, body)
end
"""


def _seed(url: str) -> tuple[uuid.UUID, str]:
    """One published dated event and an API key allowed to enroll."""
    from rollcall.domain.access.keys import create_api_key, get_or_create_organisation
    from rollcall.domain.clock import utcnow
    from rollcall.domain.events.catalog import create_event, publish_event
    from rollcall.models.db import sessions_for, transaction

    now = utcnow()
    with transaction(sessions_for(url)) as session:
        org = get_or_create_organisation(session, name="bench-intake", now=now)
        starts = now + timedelta(days=30)
        event = create_event(
            session,
            organisation_id=org.id,
            fields={"name": "intake", "max_subscriptions": 1_000_000, "waiting_list": True},
            dates=[(starts, starts + timedelta(hours=2))],
            now=now,
        )
        publish_event(session, event=event, now=now)
        _key, plaintext = create_api_key(
            session, organisation=org, scopes=["students:write"], now=now, name="bench"
        )
        return event.id, plaintext


def main() -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("bench_intake needs wrk (Debian: apt install wrk)")
    print(load_average())
    with scratch_database("intake") as url, redis_server() as redis_url:
        _measure(url, redis_url)
    print(load_average())


def _measure(url: str, redis_url: str) -> None:
    event_id, plaintext = _seed(url)
    workdir = Path(tempfile.mkdtemp(prefix="bench-intake-"))
    job = {  # a job as the enroll route answers it (schemas.JobOut)
        "id": str(uuid.uuid4()),
        "type": "enroll",
        "status": "pending",
        "progress": {"done": 0, "total": 1},
        "result": None,
        "errors": [],
        "attempts": 0,
        "created_at": "2026-01-01T00:00:00Z",
        "started_at": None,
        "finished_at": None,
    }
    (workdir / "job.json").write_bytes(json.dumps(job).encode())
    scripts = {}
    for name, path in (
        ("enroll", f"/v1/events/{event_id}/enrollments"),
        ("constant", "/bench/constant"),
    ):
        scripts[name] = workdir / f"{name}.lua"
        scripts[name].write_text(WRK_SCRIPT % (plaintext, path))
    env = service_env(url, redis_url, "smtp://127.0.0.1:1")
    rates: dict[str, list[float]] = {}
    p50s: dict[str, list[float]] = {}
    with api_server(env, workdir, workdir / "job.json") as port:

        def side(name: str) -> Callable[[], float]:
            def run() -> float:
                rate, p50 = wrk(port, scripts[name], connections=CONNECTIONS, seconds=SECONDS)
                rates.setdefault(name, []).append(rate)
                p50s.setdefault(name, []).append(p50)
                return 1 / rate  # seconds per request: alternate() wants seconds

            return run

        times = alternate({"constant": side("constant"), "enroll": side("enroll")})
    print(f"uvicorn + wrk, {CONNECTIONS} connections, {SECONDS}s per round:")
    print(f"  constant route: {spread(rates['constant'][1:])} req/s")
    print(f"  constant p50  : {spread([p * 1000 for p in p50s['constant'][1:]])} ms")
    print(f"  enroll        : {spread(rates['enroll'][1:])} req/s")
    print(f"  enroll p50    : {spread([p * 1000 for p in p50s['enroll'][1:]])} ms")
    # Throughput ratio = constant seconds-per-request over enroll's.
    print(ratio_line("  enroll / constant req/s", times["constant"], times["enroll"], ">= 0.5"))
    print(ratio_line("  enroll / constant p50", p50s["enroll"][1:], p50s["constant"][1:], "<= 2"))
    print(f"api log: {workdir / 'api.log'}")


if __name__ == "__main__":
    main()
