"""Engine and session setup for PostgreSQL (psycopg 3) and SQLite."""

from __future__ import annotations

import logging
import select
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from weakref import WeakSet

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from rollcall.config.settings import Settings

logger = logging.getLogger("rollcall.db")


def normalise_url(url: str) -> str:
    """Let users write ``postgresql://``; Rollcall always drives psycopg 3."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


#: A pool whose process did not size it (tools, tests, a bare ``dramatiq``
#: command): this many kept, and as many more opened for a burst.
UNSIZED_POOL = 10
UNSIZED_OVERFLOW = 20


def pool_size_for(threads: int) -> int:
    """The one pool-size formula: each thread that may hold a connection at once
    gets one, plus one for the process's own background work (the worker's
    outbox-ack flusher, the web process's health and metrics reads). The
    ``rollcall api|worker|scheduler`` commands set DATABASE_POOL_SIZE with it
    (README, Database connections)."""
    return threads + 1


def is_database_unavailable(exc: BaseException) -> bool:
    """Whether a database error means "down, unreachable, overloaded or cut off"
    (worth retrying later) rather than a bug: connection failures ("too many
    clients" included), a statement or the pool timing out, a connection lost
    mid-request."""
    if isinstance(exc, sa_exc.TimeoutError):  # no pooled connection came free
        return True
    if isinstance(exc, sa_exc.DBAPIError):
        return exc.connection_invalidated or isinstance(
            exc, sa_exc.OperationalError | sa_exc.InterfaceError
        )
    return False


@dataclass(frozen=True)
class DatabaseTimeouts:
    """Bounds on how long a caller waits for PostgreSQL, so a database that is
    down or stuck turns into a prompt error instead of a hung request, and on
    how many connections the process's pool holds (``pool_size``; None: unsized)."""

    connect_seconds: int = 5
    statement_ms: int = 30_000
    pool_seconds: float = 5.0
    pool_size: int | None = None
    #: Behind PgBouncer in transaction mode: no server-side prepared statements
    #: and no startup options (set statement_timeout on the role instead).
    pgbouncer: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> DatabaseTimeouts:
        return cls(
            connect_seconds=settings.database_connect_timeout_seconds,
            statement_ms=settings.database_statement_timeout_ms,
            pool_seconds=settings.database_pool_timeout_seconds,
            pool_size=settings.database_pool_size,
            pgbouncer=settings.database_pgbouncer,
        )


def make_engine(url: str, *, timeouts: DatabaseTimeouts | None = None, **kwargs: Any) -> Engine:
    """An engine for ``url``. ``timeouts`` bound connecting, each statement and the
    wait for a pooled connection on PostgreSQL; without them (migrations, which
    may run long) libpq's defaults apply: no statement timeout."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs
        )
        _sqlite_serialised_writes(engine)
        return engine
    # No pre-ping (a round trip per checkout): _drop_dead_on_checkout instead.
    kwargs.setdefault("pool_pre_ping", False)
    if timeouts is not None and timeouts.pool_size is not None:
        # Sized to the process's threads: the pool never opens more than it needs.
        kwargs.setdefault("pool_size", timeouts.pool_size)
        kwargs.setdefault("max_overflow", 0)
    kwargs.setdefault("pool_size", UNSIZED_POOL)
    kwargs.setdefault("max_overflow", UNSIZED_OVERFLOW)
    if timeouts is not None:
        kwargs.setdefault("pool_timeout", timeouts.pool_seconds)
        connect_args: dict[str, Any] = {"connect_timeout": timeouts.connect_seconds}
        if timeouts.pgbouncer:
            # PgBouncer in transaction mode hands each transaction any server
            # connection: a statement prepared on one is unknown on the next.
            connect_args["prepare_threshold"] = None
        elif timeouts.statement_ms:
            # Sent as a startup option, so it holds from the first statement of
            # every pooled connection, whoever opens a transaction on it.
            given = make_url(url).query.get("options")
            options = f"-c statement_timeout={timeouts.statement_ms}"
            connect_args["options"] = f"{given} {options}" if isinstance(given, str) else options
        kwargs["connect_args"] = connect_args | kwargs.get("connect_args", {})
    engine = create_engine(url, **kwargs)
    if not kwargs["pool_pre_ping"]:
        event.listen(engine, "checkout", _drop_dead_on_checkout)
    return engine


def _drop_dead_on_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Refuse a pooled connection the server has closed, without a round trip.

    An idle connection has nothing to read: Rollcall uses no LISTEN, and
    notices only come in answer to a statement. When PostgreSQL restarts or
    cuts the session, the server's goodbye (or EOF) makes the socket readable;
    libpq and psycopg only find out on the next statement. So a readable socket
    (or a connection psycopg already knows is broken) raises DisconnectionError:
    SQLAlchemy's pool then discards it and checks out another (opening a new one
    if need be; three tries). A server that dies after the check is caught on
    use: SQLAlchemy invalidates the pool on a disconnect error, the request
    answers 503 and a worker retries its message.
    """
    if getattr(dbapi_connection, "broken", False) or getattr(dbapi_connection, "closed", False):
        raise sa_exc.DisconnectionError("connection closed")
    pgconn = getattr(dbapi_connection, "pgconn", None)
    if pgconn is None:
        return
    try:
        readable, _, _ = select.select([pgconn.socket], [], [], 0)
    except (OSError, ValueError) as exc:
        raise sa_exc.DisconnectionError("connection socket gone") from exc
    if readable:
        raise sa_exc.DisconnectionError("the server closed the connection")


def _sqlite_serialised_writes(engine: Engine) -> None:
    """WAL for concurrent readers, and BEGIN IMMEDIATE so a transaction takes the
    write lock up front: two writers then queue on busy_timeout instead of one
    failing with "database is locked" when it upgrades a read lock."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


_MADE: WeakSet[sessionmaker[Session]] = WeakSet()

#: Session listeners installed on every sessionmaker Rollcall builds (and only
#: on those: never on SQLAlchemy's global Session class, so importing Rollcall
#: changes nothing in a host process). domain.calendar.sync adds its own.
_SESSION_LISTENERS: list[tuple[str, Callable[..., Any]]] = []


def on_every_session(event_name: str, listener: Callable[..., Any]) -> None:
    """Install ``listener`` on every sessionmaker made here, past and future."""
    if (event_name, listener) in _SESSION_LISTENERS:
        return
    _SESSION_LISTENERS.append((event_name, listener))
    for factory in _MADE:
        event.listen(factory, event_name, listener)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    factory = sessionmaker(engine, expire_on_commit=False)
    for event_name, listener in _SESSION_LISTENERS:
        event.listen(factory, event_name, listener)
    _MADE.add(factory)
    return factory


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any exception."""
    with factory() as session, session.begin():
        yield session


@contextmanager
def single_statement(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session for work that is one statement, atomic by itself: a read by
    key, a ``SELECT ... FOR SHARE`` probe, one ``UPDATE``. On PostgreSQL each
    statement commits on its own (autocommit), so it costs one round trip
    where a transaction costs three (``BEGIN``, the statement, ``COMMIT`` or
    ``ROLLBACK``); a row lock it takes (``FOR SHARE``) waits for the row's
    holder like any other and is dropped as the statement ends. Elsewhere
    (SQLite) it is a ``transaction``. Never for two statements that must
    see or change the database together."""
    with factory() as session:
        if session.get_bind().dialect.name == "postgresql":
            session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
            yield session
        else:
            with session.begin():
                yield session


#: Each engine's autocommit twin (the same pool), made once.
_AUTOCOMMIT: dict[Engine, Engine] = {}


@contextmanager
def single_statement_connection(factory: sessionmaker[Session]) -> Iterator[Connection]:
    """``single_statement`` without a session: a Core connection of the
    factory's engine for one statement that is atomic by itself. Where the
    statement is prebuilt and the ORM has nothing to track (an outbox mark),
    this skips the session's own work (making it, binding it, the ORM's
    UPDATE machinery): about a third of the CPU of the same UPDATE through a
    session. Autocommit on PostgreSQL; a transaction elsewhere (SQLite)."""
    engine = factory.kw["bind"]
    if engine.dialect.name == "postgresql":
        twin = _AUTOCOMMIT.get(engine)
        if twin is None:
            twin = _AUTOCOMMIT.setdefault(
                engine, engine.execution_options(isolation_level="AUTOCOMMIT")
            )
        with twin.connect() as connection:
            yield connection
    else:
        with engine.begin() as connection:
            yield connection


def close_session(session: Session) -> None:
    """Close a request's session at its end. Closing rolls back what is open; if
    the connection died meanwhile (the server terminated it, it restarted), that
    ROLLBACK fails, and SQLAlchemy has already thrown the connection away:
    nothing was committed, nothing is left to undo. The failure is logged, not
    raised, so the answer already sent keeps its connection."""
    try:
        session.close()
    except sa_exc.DBAPIError:
        logger.warning("a session's connection was lost before it closed", exc_info=True)


_ENGINES: dict[tuple[str, DatabaseTimeouts], Engine] = {}
_FACTORIES: dict[tuple[str, DatabaseTimeouts], sessionmaker[Session]] = {}


def engine_for(url: str, timeouts: DatabaseTimeouts = DatabaseTimeouts()) -> Engine:
    """One engine (and pool) per database URL and timeouts per process. A
    process passes its settings' timeouts (``engine_of``); tools and tests
    that pass a bare URL get the settings' defaults."""
    key = (url, timeouts)
    if key not in _ENGINES:
        _ENGINES[key] = make_engine(url, timeouts=timeouts)
    return _ENGINES[key]


def sessions_for(
    url: str, timeouts: DatabaseTimeouts = DatabaseTimeouts()
) -> sessionmaker[Session]:
    key = (url, timeouts)
    if key not in _FACTORIES:
        _FACTORIES[key] = make_sessionmaker(engine_for(url, timeouts))
    return _FACTORIES[key]


def engine_of(settings: Settings) -> Engine:
    """The engine of ``settings.database_url``, bounded by the settings' timeouts."""
    return engine_for(settings.database_url, DatabaseTimeouts.from_settings(settings))


def sessions_of(settings: Settings) -> sessionmaker[Session]:
    """The sessionmaker every Rollcall process uses: its settings' database,
    bounded by its settings' timeouts."""
    return sessions_for(settings.database_url, DatabaseTimeouts.from_settings(settings))


_READ_FACTORIES: dict[tuple[str, DatabaseTimeouts], sessionmaker[Session]] = {}


def read_sessions_of(settings: Settings) -> sessionmaker[Session]:
    """Sessions for a request that only reads, statement by statement: on
    PostgreSQL their connection is in autocommit, so no BEGIN and no ROLLBACK
    round trip surround the reads (each statement is its own snapshot; one
    that must agree with another belongs in one statement). The same pool,
    timeouts and listeners as ``sessions_of``. Elsewhere (SQLite) the same
    sessions as ``sessions_of``."""
    key = (settings.database_url, DatabaseTimeouts.from_settings(settings))
    if key not in _READ_FACTORIES:
        engine = engine_of(settings)
        if engine.dialect.name == "postgresql":
            factory = make_sessionmaker(engine.execution_options(isolation_level="AUTOCOMMIT"))
        else:
            factory = sessions_of(settings)
        _READ_FACTORIES[key] = factory
    return _READ_FACTORIES[key]


def statement_sessions_of(settings: Settings) -> sessionmaker[Session]:
    """Sessions for a request whose every write is one statement, atomic by
    itself (the enroll route: the job and its outbox row are one INSERT,
    intake.jobs_submit.record_job): on PostgreSQL each statement commits on
    its own (``read_sessions_of``'s autocommit sessions), so neither a BEGIN
    nor a COMMIT round trip surrounds the work, and a lock a statement takes
    lasts exactly its own transaction. Elsewhere (SQLite) the sessions of
    ``sessions_of``: the caller commits its transaction as usual."""
    return read_sessions_of(settings)


def dispose_all() -> None:
    for engine in _ENGINES.values():
        engine.dispose()
    _ENGINES.clear()
    _FACTORIES.clear()
    _READ_FACTORIES.clear()
