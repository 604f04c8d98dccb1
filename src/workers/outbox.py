"""Sending outbox rows to the broker: at once after commit, and by the relay.

A row is marked sent only after the broker took the message, so a broker
outage leaves it for the relay: nothing accepted is lost. A crash between the
send and the mark sends it twice; every actor is idempotent, so that is safe.
A sent row is not forgotten: it is marked done when a worker finished its
message (workers.outbox_acks), and until then the reconciler
(workers.outbox_reconcile) sends it again if the broker loses the message.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta

import dramatiq
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from models import OutboxMessage
from workers.outbox_acks import OUTBOX_OPTION

logger = logging.getLogger("rollcall.outbox")


def send_row(broker: dramatiq.Broker, row: OutboxMessage) -> None:
    """Enqueue the row's message (raises what the broker raises)."""
    actor = broker.get_actor(row.actor)
    # The option lets workers.outbox_acks mark the row done when it is.
    message = actor.message_with_options(args=tuple(row.args))
    # The outbox id is the message id: a relayed copy is recognisably the same.
    broker.enqueue(message.copy(message_id=str(row.id), options={OUTBOX_OPTION: True}))


def dispatch(
    factory: sessionmaker[Session],
    broker: dramatiq.Broker,
    ids: Iterable[uuid.UUID],
    *,
    now: datetime,
) -> int:
    """Send these outbox rows if still unsent; returns how many went out.

    Never raises on a broker failure: the rows stay for the relay.
    """
    ids = list(ids)
    if not ids:
        return 0
    with factory() as session:
        rows = session.scalars(
            select(OutboxMessage).where(OutboxMessage.id.in_(ids), OutboxMessage.sent_at.is_(None))
        ).all()
    sent: list[uuid.UUID] = []
    for row in rows:
        try:
            send_row(broker, row)
        except Exception:
            logger.warning(
                "broker unavailable; outbox %s left for the relay", row.id, exc_info=True
            )
            break
        sent.append(row.id)
    if sent:
        with factory() as session, session.begin():
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(sent))
                .values(sent_at=now, attempts=OutboxMessage.attempts + 1)
            )
    return len(sent)


def relay(
    factory: sessionmaker[Session],
    broker: dramatiq.Broker,
    *,
    now: datetime,
    older_than_seconds: int,
    batch: int = 500,
) -> int:
    """Send unsent rows older than the grace period (the intake's own send
    normally gets there first). Returns how many were sent."""
    cutoff = now - timedelta(seconds=older_than_seconds)
    total = 0
    while True:
        with factory() as session:
            ids = session.scalars(
                select(OutboxMessage.id)
                .where(OutboxMessage.sent_at.is_(None), OutboxMessage.created_at <= cutoff)
                .order_by(OutboxMessage.created_at)
                .limit(batch)
            ).all()
        if not ids:
            return total
        sent = dispatch(factory, broker, ids, now=now)
        total += sent
        if sent < len(ids):
            return total
