"""Each process's pool is sized to its threads (models.db.pool_size_for): no
overflow beyond it, and no pre-ping round trip on checkout."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.pool import QueuePool

from rollcall.models.db import DatabaseTimeouts, make_engine, pool_size_for

URL = "postgresql://rollcall@db.invalid:5432/rollcall"


def _pool(**timeouts: Any) -> QueuePool:
    engine = make_engine(URL, timeouts=DatabaseTimeouts(**timeouts))
    assert isinstance(engine.pool, QueuePool)
    return engine.pool


def test_a_sized_pool_holds_its_threads_and_no_more() -> None:
    pool = _pool(pool_size=pool_size_for(8))
    assert pool.size() == 9
    assert pool._max_overflow == 0
    assert pool._pre_ping is False


def test_an_unsized_pool_keeps_the_tools_defaults() -> None:
    pool = _pool()
    assert (pool.size(), pool._max_overflow) == (10, 20)


def _connect_arguments(timeouts: DatabaseTimeouts) -> dict[str, Any]:
    """What the engine would hand psycopg.connect (caught before it connects)."""
    engine = make_engine(URL, timeouts=timeouts)
    seen: dict[str, Any] = {}

    @event.listens_for(engine, "do_connect")
    def _catch(_dialect: Any, _record: Any, _args: Any, kwargs: dict[str, Any]) -> None:
        seen.update(kwargs)
        raise _Caught

    with pytest.raises(_Caught):
        engine.connect()
    return seen


class _Caught(Exception):
    pass


def test_direct_connections_carry_the_statement_timeout() -> None:
    given = _connect_arguments(DatabaseTimeouts(statement_ms=1000))
    assert given["options"] == "-c statement_timeout=1000"
    assert "prepare_threshold" not in given


def test_behind_pgbouncer_nothing_is_prepared_and_no_startup_option_is_sent() -> None:
    given = _connect_arguments(DatabaseTimeouts(statement_ms=1000, pgbouncer=True))
    assert given["prepare_threshold"] is None
    assert "options" not in given
