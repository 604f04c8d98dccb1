"""What the leader produces on each tick. Producers only enqueue; workers do the work."""

from __future__ import annotations

import logging

from domain.clock import utcnow
from models.db import sessions_for
from rollcall.settings import Settings
from workers.broker import get_broker
from workers.outbox import relay

logger = logging.getLogger("rollcall.scheduler")


def relay_outbox(settings: Settings) -> int:
    """Enqueue outbox rows the web or worker process could not send."""
    sent = relay(
        sessions_for(settings.database_url),
        get_broker(),
        now=utcnow(),
        older_than_seconds=settings.outbox_relay_after_seconds,
    )
    if sent:
        logger.info("outbox relay sent %d message(s)", sent, extra={"relayed": sent})
    return sent


def enqueue_calendar_rebuild(settings: Settings) -> None:
    """Enqueue a full calendar cache rebuild (a safety net: the cache is kept in
    step on every flush; this repairs what Core bulk writes bypassed)."""
    from workers.actors import rebuild_calendar

    rebuild_calendar.send()
    logger.info("calendar rebuild enqueued")
