"""What the leader produces on each tick. Producers only enqueue; workers do the work."""

from __future__ import annotations

import logging

from rollcall.config.settings import Settings
from rollcall.domain.clock import utcnow
from rollcall.domain.jobs import actor_names
from rollcall.domain.jobs.outbox import add_message, take_pending
from rollcall.messaging.broker import get_broker
from rollcall.messaging.outbox import dispatch, relay
from rollcall.messaging.outbox_reconcile import reconcile
from rollcall.models.db import sessions_of, transaction

logger = logging.getLogger("rollcall.scheduler")


def relay_outbox(settings: Settings) -> int:
    """Enqueue outbox rows the web or worker process could not send."""
    sent = relay(
        sessions_of(settings),
        get_broker(),
        now=utcnow(),
        older_than_seconds=settings.outbox_relay_after_seconds,
    )
    if sent:
        logger.info("outbox relay sent %d message(s)", sent, extra={"relayed": sent})
    return sent


def reconcile_outbox(settings: Settings) -> int:
    """Send again what was handed to the broker and lost (messaging.outbox_reconcile);
    returns how many messages were sent again."""
    report = reconcile(
        sessions_of(settings),
        get_broker(),
        now=utcnow(),
        older_than_seconds=settings.outbox_reconcile_after_seconds,
    )
    return report.resent


def enqueue_calendar_rebuild(settings: Settings) -> None:
    """Enqueue a full calendar cache rebuild (a safety net: the cache is kept in
    step on every flush; this repairs what Core bulk writes bypassed). Through
    the outbox, so a rebuild the broker loses is sent again."""
    factory = sessions_of(settings)
    with transaction(factory) as session:
        add_message(session, actor=actor_names.REBUILD_CALENDAR, args=[], now=utcnow())
        outbox_ids = take_pending(session)
    dispatch(factory, get_broker(), outbox_ids, now=utcnow())
    logger.info("calendar rebuild enqueued")
