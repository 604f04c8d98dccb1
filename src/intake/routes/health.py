"""Liveness and readiness."""

from __future__ import annotations

import asyncio
from typing import Any

import redis
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from intake.deps import AppSettings
from models.db import engine_for
from workers.smtp import SmtpTarget

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is up")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


def _check_database(url: str) -> None:
    with engine_for(url).connect() as connection:
        connection.execute(text("SELECT 1"))


def _check_redis(url: str) -> None:
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    finally:
        client.close()


def _check_smtp(url: str) -> None:
    target = SmtpTarget.from_url(url)

    async def connect() -> None:
        _reader, writer = await asyncio.wait_for(
            asyncio.open_connection(target.hostname, target.port), timeout=2
        )
        writer.close()

    asyncio.run(connect())


@router.get("/readyz", summary="Database, Redis and SMTP are reachable")
def readyz(settings: AppSettings) -> JSONResponse:
    checks: dict[str, Any] = {}
    for name, check, url in (
        ("database", _check_database, settings.database_url),
        ("redis", _check_redis, settings.redis_url),
        ("smtp", _check_smtp, settings.smtp_url),
    ):
        if name == "redis" and url.startswith("stub://"):
            checks[name] = "ok"
            continue
        try:
            check(url)
            checks[name] = "ok"
        except Exception as exc:
            checks[name] = f"error: {type(exc).__name__}: {exc}"
    ready = all(value == "ok" for value in checks.values())
    return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)
