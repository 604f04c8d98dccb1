"""The Dramatiq broker, built once per process from its entry point's settings.

Each entry point (``intake.app.create_app``, ``workers.actors``,
``scheduler.main``) calls ``configure_broker(settings)``; code below them asks
``get_broker()`` for that broker. ``REDIS_URL=stub://`` gives the StubBroker
(the component tests). ``rebind`` moves every Rollcall actor to another broker, so
tests can switch between the two.
"""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import CurrentMessage, Retries

from rollcall.config.settings import Settings
from rollcall.domain.jobs.actor_names import QUEUE_OF
from rollcall.messaging.ops_middleware import OpsStats
from rollcall.messaging.outbox_acks import OutboxAcks
from rollcall.models.db import DatabaseTimeouts

_configured: dramatiq.Broker | None = None


def make_broker(settings: Settings) -> dramatiq.Broker:
    broker: dramatiq.Broker
    if settings.redis_url.startswith("stub://"):
        broker = StubBroker()
    else:
        broker = RedisBroker(  # type: ignore[no-untyped-call]
            url=settings.redis_url,
            namespace=settings.redis_namespace,
            socket_connect_timeout=2,
            heartbeat_timeout=settings.broker_heartbeat_timeout_ms,
            maintenance_chance=settings.broker_maintenance_chance,
        )
    broker.add_middleware(CurrentMessage())
    broker.add_middleware(OpsStats(settings))
    # Before Retries in the list, so its after_* hooks run after Retries' and
    # see whether a retry is coming (dramatiq runs after_* hooks in reverse).
    broker.add_middleware(
        OutboxAcks(settings.database_url, DatabaseTimeouts.from_settings(settings)), before=Retries
    )
    for queue in sorted(set(QUEUE_OF.values())):
        # Without the actors loaded (web, scheduler) the queues are still known.
        broker.declare_queue(queue)
    return broker


def configure_broker(settings: Settings) -> dramatiq.Broker:
    """Make the process's broker from ``settings``, unless it has one already
    (a test's ``rebind``, or another entry point in the same process)."""
    global _configured
    if _configured is None:
        _configured = make_broker(settings)
        dramatiq.set_broker(_configured)
    return _configured


def get_broker() -> dramatiq.Broker:
    """The broker the process's entry point configured."""
    if _configured is None:
        raise RuntimeError("no broker yet: the entry point calls configure_broker(settings)")
    return _configured


def rebind(broker: dramatiq.Broker, actors: list[dramatiq.Actor]) -> None:  # type: ignore[type-arg]
    """Declare ``actors`` on ``broker`` and make it the process's broker."""
    global _configured
    _configured = broker
    dramatiq.set_broker(broker)
    for actor in actors:
        actor.broker = broker
        broker.declare_actor(actor)
