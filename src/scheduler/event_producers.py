"""Producers of event management: keep the occurrence horizon expanded and complete
events whose last occurrence has ended. They only record jobs (with an outbox
row each) and enqueue them; the worker does the work.

Each job has the idempotency key ``scheduler:<kind>:<tick>`` per organisation,
so two schedulers, or a restart within the same tick, record it once. The
payload is derived from the tick alone (the horizon's end, the completion
moment), so the same tick always means the same job.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from rollcall.config.settings import Settings
from rollcall.domain.clock import utcnow
from rollcall.domain.errors import IdempotencyKeyReused
from rollcall.domain.events.jobs import COMPLETE_EVENTS, EXPAND_OCCURRENCES
from rollcall.domain.jobs.engine import submit_job
from rollcall.domain.jobs.outbox import take_pending
from rollcall.domain.jobs.row_guard import each_row
from rollcall.messaging.broker import get_broker
from rollcall.messaging.outbox import dispatch
from rollcall.models import Event
from rollcall.models.db import sessions_of, transaction

logger = logging.getLogger("rollcall.scheduler")


#: Expansion is planned once an hour at most; completion every five minutes.
EXPANSION_TICK = timedelta(hours=1)
COMPLETION_TICK = timedelta(minutes=5)


def tick_start(now: datetime, tick: timedelta) -> datetime:
    """The start of the tick ``now`` falls in (ticks are aligned on the epoch)."""
    seconds = int(tick.total_seconds())
    return datetime.fromtimestamp(int(now.timestamp()) // seconds * seconds, tz=UTC)


def _submit_per_organisation(
    settings: Settings,
    organisations: set[uuid.UUID],
    *,
    kind: str,
    tick: datetime,
    payload: dict[str, str],
) -> int:
    factory = sessions_of(settings)
    created = 0
    outbox_ids: list[uuid.UUID] = []
    with transaction(factory) as session:
        for organisation_id in sorted(organisations):
            # Each organisation on its own (in a savepoint): one that cannot
            # take the job is skipped and counted, the others get theirs.
            with each_row(session, f"organisation {organisation_id} ({kind})"):
                try:
                    _job, new = submit_job(
                        session,
                        organisation_id=organisation_id,
                        type=kind,
                        payload=payload,
                        now=utcnow(),
                        idempotency_key=f"scheduler:{kind}:{tick.isoformat()}",
                    )
                except IdempotencyKeyReused:
                    # A client used our key for something else: skip this tick
                    # for that organisation rather than stall every other one.
                    logger.warning("scheduler key taken in organisation %s", organisation_id)
                    continue
                created += int(new)
        outbox_ids = take_pending(session)
    dispatch(factory, get_broker(), outbox_ids, now=utcnow())
    return created


def plan_expansion(settings: Settings, now: datetime) -> int:
    """Record an expansion job for each organisation with a recurring event expanded
    short of the horizon; returns how many jobs were new."""
    tick = tick_start(now, EXPANSION_TICK)
    until = tick + timedelta(days=settings.occurrence_horizon_days)
    with sessions_of(settings)() as session:
        organisations = set(
            session.scalars(
                select(Event.organisation_id).where(
                    Event.cancelled.is_(False),
                    Event.status != "completed",
                    Event.expanded_until < until,
                )
            )
        )
    return _submit_per_organisation(
        settings,
        organisations,
        kind=EXPAND_OCCURRENCES,
        tick=tick,
        payload={"until": until.isoformat()},
    )


def plan_completion(settings: Settings, now: datetime) -> int:
    """Record a completion job for each organisation with a published event that
    has ended; returns how many jobs were new."""
    tick = tick_start(now, COMPLETION_TICK)
    with sessions_of(settings)() as session:
        organisations = set(
            session.scalars(
                select(Event.organisation_id).where(
                    Event.status == "published",
                    Event.cancelled.is_(False),
                    Event.ends_at <= tick,
                )
            )
        )
    return _submit_per_organisation(
        settings,
        organisations,
        kind=COMPLETE_EVENTS,
        tick=tick,
        payload={"as_of": tick.isoformat()},
    )


def expand_occurrences(settings: Settings) -> int:
    """Scheduler entry point: keep the rolling horizon of occurrences expanded."""
    created = plan_expansion(settings, utcnow())
    if created:
        logger.info("planned occurrence expansion for %d organisation(s)", created)
    return created


def complete_events(settings: Settings) -> int:
    """Scheduler entry point: complete events after their last occurrence ends."""
    created = plan_completion(settings, utcnow())
    if created:
        logger.info("planned event completion for %d organisation(s)", created)
    return created
