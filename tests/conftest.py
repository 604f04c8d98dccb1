"""Fixtures: see tests/support/. The tiers, by folder: unit/ is pure (no database,
no broker; tests/unit/conftest.py enforces it), component/ runs SQLite and the
StubBroker in-process, integration/ the real services (PostgreSQL, Redis, an
SMTP sink), then acceptance/ and e2e/."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from rollcall.config import settings as settings_module
from rollcall.intake.app import create_app
from rollcall.models import migrate
from rollcall.models.db import dispose_all
from rollcall.workers.smtp_keep import close_kept_smtp
from tests.support.services import (
    BASE_PG_URL,
    PG_URL,
    LiveServer,
    RedisServer,
    SmtpSink,
    ensure_database,
    reset_postgres,
    start_redis,
    truncate_all,
    unavailable,
)
from tests.support.stack import Stack, bind_broker, configure, unique_namespace


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    migrate.upgrade(f"sqlite:///{path}")
    dispose_all()
    return path


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "rollcall.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def postgres_database() -> str:
    try:
        ensure_database(PG_URL, via=BASE_PG_URL)
        engine = create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:
        unavailable(f"PostgreSQL at {PG_URL}", exc)
    reset_postgres(PG_URL)
    return PG_URL


@pytest.fixture
def postgres_url(postgres_database: str) -> str:
    truncate_all(postgres_database)
    return postgres_database


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    server = start_redis()
    yield server
    server.stop()


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture(autouse=True)
def _fresh_settings() -> Iterator[None]:
    yield
    settings_module.get_settings.cache_clear()
    # A mail sent from the test's own thread keeps its SMTP connection
    # (workers.smtp_keep): ended here, not carried to the next test's sink.
    close_kept_smtp()
    dispose_all()


@pytest.fixture
def component_stack(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str, smtp_sink: SmtpSink, tmp_path: Path
) -> Iterator[Stack]:
    """SQLite + StubBroker + in-process worker + in-process ASGI client + SMTP sink."""
    settings = configure(
        monkeypatch,
        database_url=sqlite_url,
        redis_url="stub://",
        smtp_url=smtp_sink.url,
        var_dir=str(tmp_path / "var"),
    )
    broker = bind_broker(settings)
    with TestClient(create_app(settings)) as client:
        stack = Stack(settings=settings, broker=broker, client=client, sink=smtp_sink)
        # One thread: the StubBroker then applies jobs in the order they were posted,
        # so component tests are deterministic (concurrency is proven by the race tests).
        stack.start_worker(threads=1)
        yield stack
        stack.stop()
    broker.close()


@pytest.fixture
def real_stack(
    monkeypatch: pytest.MonkeyPatch,
    postgres_url: str,
    redis_server: RedisServer,
    smtp_sink: SmtpSink,
    tmp_path: Path,
) -> Iterator[Stack]:
    """PostgreSQL + Redis + aiosmtpd sink + uvicorn over HTTP + a Dramatiq worker."""
    settings = configure(
        monkeypatch,
        database_url=postgres_url,
        redis_url=redis_server.url,
        redis_namespace=unique_namespace(),
        smtp_url=smtp_sink.url,
        var_dir=str(tmp_path / "var"),
    )
    broker = bind_broker(settings)
    with (
        LiveServer(create_app(settings)) as server,
        httpx.Client(base_url=server.url, timeout=30) as client,
    ):
        stack = Stack(settings=settings, broker=broker, client=client, sink=smtp_sink)
        stack.extra["server"] = server
        stack.start_worker(threads=4)
        yield stack
        stack.stop()
    broker.flush_all()
    broker.close()


TESTS = Path(__file__).parent
#: Markers by tier (the folder under tests/): what its tests need, whatever fixtures they name.
TIER_MARKERS = {
    "component": ("component",),
    "integration": ("postgres", "redis"),
    "acceptance": ("slow",),
    "e2e": ("browser",),
}
POSTGRES_FIXTURES = {"real_stack", "postgres_url", "postgres_database"}
REDIS_FIXTURES = {"real_stack", "redis_server"}


def pytest_collection_modifyitems(items: list[Any]) -> None:
    """Mark each test by its folder and by the services it uses, so that
    ``-m "not postgres"`` runs no PostgreSQL test (a fixture parametrized over
    SQLite and PostgreSQL, requested dynamically, counts by its parameter)."""
    for item in items:
        path = Path(str(item.fspath))
        tier = path.relative_to(TESTS).parts[0] if path.is_relative_to(TESTS) else ""
        names = set(getattr(item, "fixturenames", ()))
        params = set(map(str, getattr(getattr(item, "callspec", None), "params", {}).values()))
        wanted = set(TIER_MARKERS.get(tier, ()))
        if names & POSTGRES_FIXTURES or "postgres" in params:
            wanted.add("postgres")
        if names & REDIS_FIXTURES:
            wanted.add("redis")
        for marker in sorted(wanted):
            item.add_marker(getattr(pytest.mark, marker))
