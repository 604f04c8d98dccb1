"""Liveness and readiness.

Both answer without authentication (probes and load balancers call them), so
they say only which check is in which state; why a check failed goes to the log.
"""

from __future__ import annotations

import asyncio
import logging

import redis
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from rollcall.config.settings import Settings
from rollcall.config.smtp_target import SmtpTarget
from rollcall.domain.clock import utcnow
from rollcall.domain.ops.producer_health import producer_state
from rollcall.intake.deps import AppSettings
from rollcall.messaging.queue_inspect import inspector_for
from rollcall.models.db import engine_of

logger = logging.getLogger("rollcall.health")

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is up")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


def _check_database(settings: Settings) -> None:
    with engine_of(settings).connect() as connection:
        connection.execute(text("SELECT 1"))


def _check_redis(settings: Settings) -> None:
    if settings.redis_url.startswith("stub://"):
        return
    client = redis.Redis.from_url(settings.redis_url, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    finally:
        client.close()


def _check_smtp(settings: Settings) -> None:
    target = SmtpTarget.from_url(settings.smtp_url)

    async def connect() -> None:
        _reader, writer = await asyncio.wait_for(
            asyncio.open_connection(target.hostname, target.port), timeout=2
        )
        writer.close()

    asyncio.run(connect())


@router.get(
    "/readyz",
    summary="Database, Redis and SMTP are reachable",
    description='`{"status": "ok" | "unavailable", "checks": {name: "ok" | "error"}, '
    '"producers": {name: state}}`; 200 when every check is ok, else 503 (producers do not '
    "decide it). Failure details are logged, not answered.",
)
def readyz(settings: AppSettings) -> JSONResponse:
    checks: dict[str, str] = {}
    for name, check in (
        ("database", _check_database),
        ("redis", _check_redis),
        ("smtp", _check_smtp),
    ):
        try:
            check(settings)
            checks[name] = "ok"
        except Exception as exc:
            # The exception text names hosts and ports: for the log only.
            logger.warning("readiness check %s failed: %s: %s", name, type(exc).__name__, exc)
            checks[name] = "error"
    ready = all(value == "ok" for value in checks.values())
    # The scheduler's producers, by name and state only, for alerting; they do
    # not decide this process's readiness (a producer skipping one
    # organisation's bad row must not take the API out of the load balancer).
    body = {
        "status": "ok" if ready else "unavailable",
        "checks": checks,
        "producers": _producer_states(settings),
    }
    return JSONResponse(body, status_code=200 if ready else 503)


def _producer_states(settings: Settings) -> dict[str, str]:
    try:
        inspector = inspector_for(settings.redis_url, settings.redis_namespace)
        health = inspector.producer_health() if inspector is not None else {}
    except redis.RedisError:
        return {}  # the redis check above already says so
    now = utcnow()
    return {name: producer_state(one, now=now) for name, one in health.items()}
