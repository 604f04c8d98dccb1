"""Sending outbox rows to the broker: at once after commit, and by the relay.

A row is marked sent only after the broker took the message, so a broker
outage leaves it for the relay: nothing accepted is lost. A crash between the
send and the mark sends it twice; every actor is idempotent, so that is safe.
A sent row is not forgotten: it is marked done when a worker finished its
message (messaging.outbox_acks), and until then the reconciler
(messaging.outbox_reconcile) sends it again if the broker loses the message.
"""

from __future__ import annotations

import functools
import logging
import threading
import uuid
import weakref
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol, cast

import dramatiq
from sqlalchemy import Engine, Table, Update, and_, bindparam, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from rollcall.domain.jobs.actor_names import QUEUE_OF
from rollcall.domain.jobs.outbox import WrittenMessage
from rollcall.domain.jobs.row_guard import record_skip
from rollcall.messaging.outbox_acks import OUTBOX_OPTION
from rollcall.messaging.sent_marks import SentMarks
from rollcall.models import OutboxMessage
from rollcall.models.db import is_database_unavailable, single_statement_connection
from rollcall.models.sql_lists import among_parameter

logger = logging.getLogger("rollcall.outbox")


class UnknownActor(LookupError):
    """An outbox row names an actor this process does not declare."""


class _Row(Protocol):
    """What a message is built from: an outbox row, read or just written."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def actor(self) -> str: ...
    @property
    def args(self) -> list[Any]: ...


def _message(row: _Row) -> dramatiq.Message[Any]:
    """The row's message, built from its actor's name and queue
    (domain.jobs.actor_names): the sending process need not declare the actors."""
    queue = QUEUE_OF.get(row.actor)
    if queue is None:
        raise UnknownActor(row.actor)
    # The outbox id is the message id: a relayed copy is recognisably the same.
    # The option lets messaging.outbox_acks mark the row done when it is.
    return dramatiq.Message(
        queue_name=queue,
        actor_name=row.actor,
        args=tuple(row.args),
        kwargs={},
        options={OUTBOX_OPTION: True},
        message_id=str(row.id),
    )


def send_row(broker: dramatiq.Broker, row: OutboxMessage) -> None:
    """Enqueue the row's message (raises what the broker raises)."""
    broker.enqueue(_message(row))


def _send_rows(broker: dramatiq.Broker, rows: Sequence[_Row]) -> tuple[list[uuid.UUID], bool]:
    """(ids sent, whether the broker failed). A row whose message cannot be
    built is skipped (logged and counted, domain.jobs.row_guard) and the others
    go out: it stays unsent, and the relay tries it again on every tick. A
    broker failure stops the lot: the rest waits for the relay."""
    sent: list[uuid.UUID] = []
    for row in rows:
        try:
            message = _message(row)
        except Exception as error:
            record_skip(f"outbox message {row.id} to {row.actor}", error)
            continue
        try:
            broker.enqueue(message)
        except Exception:
            logger.warning(
                "broker unavailable; outbox %s left for the relay", row.id, exc_info=True
            )
            return sent, True
        sent.append(row.id)
    return sent, False


_outbox = cast(Table, OutboxMessage.__table__)


@functools.cache
def _mark_sent_statement(dialect: str) -> Update:
    """``UPDATE outbox SET sent_at, attempts + 1`` for a list of ids, built
    once per dialect (the ids: ``models.sql_lists.among_parameter``)."""
    return (
        update(_outbox)
        .where(among_parameter(dialect, _outbox.c.id, "sent_ids"))
        .values(
            sent_at=bindparam("sent_now", type_=_outbox.c.sent_at.type),
            attempts=_outbox.c.attempts + 1,
        )
    )


def _mark_sent(factory: sessionmaker[Session], sent: list[uuid.UUID], now: datetime) -> None:
    """One prebuilt statement on a connection of its own (no session: this is
    on every 202's path and every message a worker sends)."""
    if sent:
        with single_statement_connection(factory) as connection:
            statement = _mark_sent_statement(connection.dialect.name)
            connection.execute(statement, {"sent_ids": sent, "sent_now": now})


def dispatch(
    factory: sessionmaker[Session],
    broker: dramatiq.Broker,
    ids: Iterable[uuid.UUID],
    *,
    now: datetime,
) -> int:
    """Send these outbox rows if still unsent; returns how many went out.

    Called after the commit that recorded the rows, so it never raises on a
    broker failure, nor on the database being unavailable ("too many
    clients", a restart): the work is accepted and the rows stay for the relay.
    A row sent but not marked is sent again by the relay; its job applies once.
    """
    ids = list(ids)
    if not ids:
        return 0
    try:
        with factory() as session:
            rows = session.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.id.in_(ids), OutboxMessage.sent_at.is_(None)
                )
            ).all()
    except Exception as error:
        if not is_database_unavailable(error):
            raise
        logger.warning("database unavailable; %d outbox row(s) left for the relay", len(ids))
        return 0
    return _send_and_mark(factory, broker, rows, now)


def dispatch_written(
    factory: sessionmaker[Session],
    broker: dramatiq.Broker,
    written: Sequence[WrittenMessage],
    *,
    now: datetime,
) -> int:
    """``dispatch`` for rows this process has just committed
    (domain.jobs.outbox.take_written): sent as written, without reading them
    back. Called right after the commit, so no relay can have sent them yet
    (it waits out a grace period); if one had, the message goes twice, which
    every actor tolerates. The same guarantees as ``dispatch``: a broker or
    database failure leaves the rows to the relay, and a crash before the
    send does too (the rows are committed, unsent)."""
    if not written:
        return 0
    return _send_and_mark(factory, broker, written, now)


def _send_and_mark(
    factory: sessionmaker[Session], broker: dramatiq.Broker, rows: Sequence[_Row], now: datetime
) -> int:
    sent, _broker_failed = _send_rows(broker, rows)
    sent_marks(factory).mark(sent, now, functools.partial(_mark_sent, factory))
    return len(sent)


#: Each engine's combined marks (messaging.sent_marks), made once; a disposed
#: engine's go with it.
_MARKS: weakref.WeakKeyDictionary[Engine, SentMarks] = weakref.WeakKeyDictionary()
_MARKS_LOCK = threading.Lock()


def sent_marks(factory: sessionmaker[Session]) -> SentMarks:
    """The marks of the factory's database, combined across this process's
    senders (a 202's, a worker's): the one ``SentMarks`` of its engine."""
    engine: Engine = factory.kw["bind"]
    marks = _MARKS.get(engine)
    if marks is None:
        with _MARKS_LOCK:
            marks = _MARKS.get(engine)
            if marks is None:
                marks = _MARKS[engine] = SentMarks()
    return marks


def relay(
    factory: sessionmaker[Session],
    broker: dramatiq.Broker,
    *,
    now: datetime,
    older_than_seconds: int,
    batch: int = 500,
) -> int:
    """Send unsent rows older than the grace period (the intake's own send
    normally gets there first), oldest first, past any row that cannot be
    sent. Returns how many were sent."""
    cutoff = now - timedelta(seconds=older_than_seconds)
    total = 0
    after: tuple[datetime, uuid.UUID] | None = None
    while True:
        query = select(OutboxMessage).where(
            OutboxMessage.sent_at.is_(None), OutboxMessage.created_at <= cutoff
        )
        if after is not None:
            # Keyset: a skipped row is not read again in this tick.
            query = query.where(
                or_(
                    OutboxMessage.created_at > after[0],
                    and_(OutboxMessage.created_at == after[0], OutboxMessage.id > after[1]),
                )
            )
        with factory() as session:
            rows = session.scalars(
                query.order_by(OutboxMessage.created_at, OutboxMessage.id).limit(batch)
            ).all()
        if not rows:
            return total
        sent, broker_failed = _send_rows(broker, rows)
        _mark_sent(factory, sent, now)
        total += len(sent)
        if broker_failed:
            return total
        after = (rows[-1].created_at, rows[-1].id)
