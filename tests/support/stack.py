"""A whole Rollcall in one test process: settings, database, broker, worker, API.

``Stack`` is what tests talk to. The unit flavour is SQLite + StubBroker +
in-process ASGI; the real flavour is PostgreSQL + Redis + the aiosmtpd sink +
uvicorn over HTTP + a Dramatiq worker consuming from Redis.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import dramatiq
import httpx
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from rollcall.config import settings as settings_module
from rollcall.config.settings import Settings
from rollcall.domain.access.keys import SCOPES, create_api_key, get_or_create_organisation
from rollcall.domain.clock import utcnow
from rollcall.messaging import broker as broker_module
from rollcall.models.db import dispose_all, sessions_for, transaction

ALL_SCOPES = list(SCOPES)
QUEUES = ("jobs", "mail", "calendar", "webhooks")


@dataclass
class Stack:
    settings: Settings
    broker: dramatiq.Broker
    client: httpx.Client | TestClient
    worker: dramatiq.Worker | None = None
    sink: Any = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def sessions(self) -> sessionmaker[Session]:
        return sessions_for(self.settings.database_url)

    @contextmanager
    def db(self) -> Iterator[Session]:
        with transaction(self.sessions) as session:
            yield session

    def key(
        self, org: str = "acme", scopes: list[str] | None = None, operator: bool = False
    ) -> str:
        with self.db() as session:
            organisation = get_or_create_organisation(session, name=org, now=utcnow())
            _key, plaintext = create_api_key(
                session,
                organisation=organisation,
                scopes=scopes or ALL_SCOPES,
                now=utcnow(),
                is_operator=operator,
            )
        return plaintext

    def auth(self, key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"}

    def drain(self, rounds: int = 3, timeout_ms: int = 60_000) -> None:
        """Wait until every queue is empty and the worker idle (jobs cause mail)."""
        assert self.worker is not None, "this stack has no worker"
        for _ in range(rounds):
            for queue in QUEUES:
                self.broker.join(queue, timeout=timeout_ms)
            self.worker.join()

    def start_worker(self, threads: int = 4) -> dramatiq.Worker:
        self.worker = dramatiq.Worker(self.broker, worker_threads=threads, worker_timeout=50)
        self.worker.start()
        return self.worker

    def stop(self) -> None:
        if self.worker is not None:
            self.worker.stop()
            self.worker = None


def configure(monkeypatch: Any, **env: str) -> Settings:
    """Settings for these services, built as an entry point builds them (from
    the environment, through get_settings); bind_broker hands them to the actors."""
    for name, value in env.items():
        monkeypatch.setenv(name.upper(), value)
    settings_module.get_settings.cache_clear()
    dispose_all()
    return settings_module.get_settings()


def bind_broker(settings: Settings) -> dramatiq.Broker:
    """A fresh broker from ``settings``, made the process's, with every actor on
    it reading ``settings``."""
    from rollcall.workers import actors

    actors.configure(settings)
    broker = broker_module.make_broker(settings)
    broker_module.rebind(broker, actors.ACTORS)
    for queue in QUEUES:
        broker.declare_queue(queue)
    if hasattr(broker, "flush_all"):
        broker.flush_all()
    return broker


def unique_namespace() -> str:
    return f"rc-test-{uuid.uuid4().hex[:10]}"


@contextmanager
def live_api(monkeypatch: Any, *, database_url: str, smtp_url: str, **env: str) -> Iterator[Stack]:
    """The API alone over real HTTP (uvicorn on a free port) on ``database_url``,
    with the StubBroker and no worker: for tests about the web process itself.
    One httpx client, so its requests share a keep-alive connection."""
    from rollcall.intake.app import create_app
    from tests.support.services import LiveServer

    settings = configure(
        monkeypatch, database_url=database_url, redis_url="stub://", smtp_url=smtp_url, **env
    )
    broker = bind_broker(settings)
    try:
        with (
            LiveServer(create_app(settings)) as server,
            httpx.Client(base_url=server.url, timeout=60) as client,
        ):
            stack = Stack(settings=settings, broker=broker, client=client)
            stack.extra["server"] = server
            yield stack
    finally:
        broker.close()
