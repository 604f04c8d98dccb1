"""Fixtures of the fault tests: a Redis of their own, and the live stack on the
test's PostgreSQL and SMTP sink over a Redis they choose."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.faults import LiveStack, PrivateRedis, live_stack
from tests.support.services import SmtpSink


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    """A redis-server that may be killed and comes back empty (``PrivateRedis``)."""
    server = PrivateRedis()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def live(
    monkeypatch: pytest.MonkeyPatch, postgres_url: str, smtp_sink: SmtpSink, tmp_path: Path
) -> LiveStack:
    """``live(redis_url=...)``: ``live_stack`` on this test's PostgreSQL, SMTP
    sink and temporary folder, over the Redis at ``redis_url``."""
    return functools.partial(
        live_stack, monkeypatch, database_url=postgres_url, sink=smtp_sink, var_dir=tmp_path
    )
