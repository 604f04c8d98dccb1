"""The unit tier is pure: no database, no broker, no service.

A test that needs SQLite and the StubBroker belongs in tests/component/. This
guard keeps the tier honest: a unit test that asks for a service fixture, opens
a database connection (through SQLAlchemy or a DB-API driver directly) or builds
a Dramatiq broker fails at once, instead of the tier silently growing slow and
stateful again.
"""

from __future__ import annotations

import sqlite3
from typing import Any, NoReturn

import dramatiq
import psycopg
import pytest
from sqlalchemy.engine.default import DefaultDialect

#: Fixtures that stand up a database, a broker or a network service.
SERVICE_FIXTURES = frozenset(
    {
        "sqlite_template",
        "sqlite_url",
        "postgres_database",
        "postgres_url",
        "redis_server",
        "smtp_sink",
        "component_stack",
        "real_stack",
    }
)


def _refuse(what: str) -> Any:
    def refuse(*_args: Any, **_kwargs: Any) -> NoReturn:
        pytest.fail(f"unit tests are pure: {what} belongs in tests/component/", pytrace=False)

    return refuse


@pytest.fixture(autouse=True)
def _pure(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail a unit test that asks for, or reaches, a database or a broker."""
    asked = sorted(SERVICE_FIXTURES & set(request.fixturenames))
    if asked:
        pytest.fail(
            f"unit tests are pure; {request.node.nodeid} asks for {', '.join(asked)}: "
            "move it to tests/component/",
            pytrace=False,
        )
    monkeypatch.setattr(DefaultDialect, "connect", _refuse("a database connection"))
    monkeypatch.setattr(sqlite3, "connect", _refuse("sqlite3.connect"))
    monkeypatch.setattr(psycopg, "connect", _refuse("psycopg.connect"))
    monkeypatch.setattr(dramatiq.Broker, "__init__", _refuse("a Dramatiq broker"))
