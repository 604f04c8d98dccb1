"""The one function a change calls to cause webhook deliveries: ``record_event``.

Call it inside the transaction that makes the change: the delivery rows and
their outbox message commit or roll back with it, so a rolled-back change
delivers nothing and a committed one cannot lose its delivery. One outbox
message per subscription and call is enough: the first of the deliveries
recorded wakes the next when it is done (domain.webhooks.deliveries).

The organisation's enabled subscriptions are read once per session
(``session.info``): a change in an organisation without webhooks costs one
small query per transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlalchemy.orm import Session

from rollcall.domain.jobs import actor_names
from rollcall.domain.jobs.outbox import add_message
from rollcall.domain.webhooks.event_types import EVENT_TYPES
from rollcall.models import WebhookDelivery, WebhookSubscription
from rollcall.models.base import new_id

_CACHE_KEY = "rollcall.webhook_subscribers"


#: An organisation's enabled subscriptions, built once (a statement a job).
_SUBSCRIPTIONS = select(WebhookSubscription.id, WebhookSubscription.events).where(
    WebhookSubscription.organisation_id
    == bindparam("organisation_id", type_=WebhookSubscription.organisation_id.type),
    WebhookSubscription.enabled.is_(True),
)


def _subscribers(session: Session, organisation_id: uuid.UUID, event_type: str) -> list[uuid.UUID]:
    cache: dict[uuid.UUID, list[tuple[uuid.UUID, frozenset[str]]]] = session.info.setdefault(
        _CACHE_KEY, {}
    )
    subscriptions = cache.get(organisation_id)
    if subscriptions is None:
        rows = session.execute(_SUBSCRIPTIONS, {"organisation_id": organisation_id}).all()
        subscriptions = [(row.id, frozenset(row.events)) for row in rows]
        cache[organisation_id] = subscriptions
    return [sid for sid, events in subscriptions if event_type in events]


def forget_subscribers(session: Session) -> None:
    """Drop the session's cached subscriptions (after changing them in it)."""
    session.info.pop(_CACHE_KEY, None)


def wants(session: Session, organisation_id: uuid.UUID, event_type: str) -> bool:
    """Whether any enabled subscription of the organisation takes ``event_type``
    (lets a caller skip building payloads nobody asked for)."""
    return bool(_subscribers(session, organisation_id, event_type))


def body(event_type: str, data: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The body sent: ``{"type", "timestamp", "data"}`` (timestamp: when it happened)."""
    return {
        "type": event_type,
        "timestamp": now.isoformat().replace("+00:00", "Z"),
        "data": data,
    }


def record_event(
    session: Session,
    *,
    organisation_id: uuid.UUID,
    event_type: str,
    data: dict[str, Any],
    now: datetime,
) -> int:
    """Record one delivery per enabled subscription that takes ``event_type``;
    returns how many. ``data`` must be JSON-safe."""
    return record_events(
        session, organisation_id=organisation_id, event_type=event_type, datas=[data], now=now
    )


def record_events(
    session: Session,
    *,
    organisation_id: uuid.UUID,
    event_type: str,
    datas: Iterable[dict[str, Any]],
    now: datetime,
) -> int:
    """``record_event`` for many changes of one type (a bulk chunk), in one
    INSERT; their order is the order of ``datas``."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {event_type!r}")
    subscribers = _subscribers(session, organisation_id, event_type)
    if not subscribers:
        return 0
    bodies = [body(event_type, data, now) for data in datas]
    rows = [
        {
            "id": new_id(),
            "subscription_id": subscription_id,
            "organisation_id": organisation_id,
            "event_type": event_type,
            "payload": one,
            "state": "pending",
            "attempts": 0,
            "created_at": now,
        }
        for subscription_id in subscribers
        for one in bodies
    ]
    if not rows:
        return 0
    session.flush()
    session.execute(insert(WebhookDelivery), rows)
    # The first of each subscription's: it wakes the rest, one after another.
    for index in range(len(subscribers)):
        first = rows[index * len(bodies)]["id"]
        add_message(session, actor=actor_names.DELIVER_WEBHOOK, args=[str(first)], now=now)
    return len(rows)
