"""The reconciler: send again what the broker lost.

An outbox row is sent after commit and done when a worker finished its
message (messaging.outbox_acks). A row sent more than the reconcile age ago and
still not done is either waiting in a long queue, being worked on, retrying,
or lost: Redis restarted without its data, failed over, or the worker that
fetched it died. The broker is asked which: Dramatiq's Redis broker keeps
every message it will still deliver (messaging.queue_inspect); a row whose
message it no longer holds live is sent again, under the same message id.
Application is exactly once (jobs, mails and runs each lock and skip what is
finished), so a message sent twice is harmless; asking the broker first keeps
a legitimate backlog from being doubled every tick.

A broker that cannot be asked (the StubBroker, RabbitMQ) falls back to age
alone, at most ``resend_max`` rows per tick.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import dramatiq
from dramatiq.errors import ActorNotFound
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from rollcall.messaging.outbox import send_row
from rollcall.messaging.queue_inspect import inspector_of
from rollcall.models import OutboxMessage
from rollcall.models.sql_lists import among

logger = logging.getLogger("rollcall.outbox")

#: Rows sent again per tick at most (the age-only fallback, a mass loss).
RESEND_MAX = 5000


@dataclass(frozen=True)
class Pending:
    """An outbox row sent before the reconcile age and not done."""

    id: uuid.UUID
    actor: str


@dataclass(frozen=True)
class Reconciled:
    pending: int = 0
    held: int = 0
    resent: int = 0
    #: Whether the broker was asked (False: age alone decided).
    asked_broker: bool = False


def lost(pending: Sequence[Pending], live: set[str] | None) -> list[uuid.UUID]:
    """The rows to send again, oldest first: those whose message id the broker
    does not hold live; every one of them when it cannot tell (``None``)."""
    if live is None:
        return [row.id for row in pending]
    return [row.id for row in pending if str(row.id) not in live]


def reconcile(
    factory: sessionmaker[Session],
    broker: dramatiq.Broker,
    *,
    now: datetime,
    older_than_seconds: int,
    resend_max: int = RESEND_MAX,
) -> Reconciled:
    """Send again the rows sent before ``now - older_than_seconds``, not done,
    whose message the broker lost. Never raises on a broker failure (the rows
    wait for the next tick)."""
    pending = _pending(factory, now - timedelta(seconds=older_than_seconds))
    if not pending:
        return Reconciled()
    try:
        # Read after ``now``: every pending row's message was enqueued before it.
        live = _live(broker, {row.actor for row in pending})
    except Exception:
        # Redis is down: sending would fail too. Nothing is decided this tick.
        logger.warning("could not read the broker's messages", exc_info=True)
        return Reconciled(pending=len(pending))
    gone = lost(pending, live)
    resent = _resend(factory, broker, gone[:resend_max], now=now)
    report = Reconciled(
        pending=len(pending),
        held=len(pending) - len(gone),
        resent=resent,
        asked_broker=live is not None,
    )
    if resent:
        logger.warning(
            "reconciler sent again %d message(s) the broker had lost",
            resent,
            extra={
                "pending": report.pending,
                "held": report.held,
                "resent": resent,
                "asked_broker": report.asked_broker,
            },
        )
    return report


def _pending(factory: sessionmaker[Session], cutoff: datetime) -> list[Pending]:
    with factory() as session:
        rows = session.execute(
            select(OutboxMessage.id, OutboxMessage.actor)
            .where(
                OutboxMessage.done_at.is_(None),
                OutboxMessage.sent_at.is_not(None),
                OutboxMessage.sent_at <= cutoff,
            )
            .order_by(OutboxMessage.sent_at, OutboxMessage.id)
        ).all()
    return [Pending(row.id, row.actor) for row in rows]


def _live(broker: dramatiq.Broker, actors: Iterable[str]) -> set[str] | None:
    inspector = inspector_of(broker)
    if inspector is None:
        return None
    queues = set()
    for name in actors:
        try:
            queues.add(broker.get_actor(name).queue_name)
        except ActorNotFound:
            continue
    return inspector.live_message_ids(
        sorted(queues),
        now_ms=time.time() * 1000,
        heartbeat_timeout_ms=int(getattr(broker, "heartbeat_timeout", 60_000)),
    )


def _resend(
    factory: sessionmaker[Session],
    broker: dramatiq.Broker,
    ids: list[uuid.UUID],
    *,
    now: datetime,
) -> int:
    """Send these rows again if still not done; returns how many went out."""
    if not ids:
        return 0
    sent: list[uuid.UUID] = []
    with factory() as session:
        dialect = session.get_bind().dialect.name
        rows = session.scalars(
            select(OutboxMessage)
            .where(among(dialect, OutboxMessage.id, ids), OutboxMessage.done_at.is_(None))
            .order_by(OutboxMessage.sent_at, OutboxMessage.id)
        ).all()
    for row in rows:
        try:
            send_row(broker, row)
        except ActorNotFound:
            logger.error("outbox %s names no known actor %r; left alone", row.id, row.actor)
            continue
        except Exception:
            logger.warning("broker unavailable; outbox %s left for the next tick", row.id)
            break
        sent.append(row.id)
    if sent:
        # sent_at restarts the age: the next check of these rows is one age away.
        with factory() as session, session.begin():
            session.execute(
                update(OutboxMessage)
                .where(among(dialect, OutboxMessage.id, sent))
                .values(sent_at=now, attempts=OutboxMessage.attempts + 1)
                .execution_options(synchronize_session=False)
            )
    return len(sent)
