"""Webhook subscriptions: created with a secret shown once, changed, rotated, deleted."""

from __future__ import annotations

import base64
import secrets
import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from rollcall.domain.errors.webhooks import WebhookEventTypeUnknown, WebhookNotFound
from rollcall.domain.webhooks.deliveries import disable, wake_next
from rollcall.domain.webhooks.event_types import EVENT_TYPES
from rollcall.domain.webhooks.targets import check_url
from rollcall.models import WebhookSubscription

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """A Standard Webhooks signing secret: ``whsec_`` + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def check_events(events: Sequence[str]) -> list[str]:
    """The event types, each once, in the order given; raises WebhookEventTypeUnknown."""
    unknown = [event for event in events if event not in EVENT_TYPES]
    if unknown:
        raise WebhookEventTypeUnknown(
            f"Unknown event type(s): {', '.join(sorted(set(unknown)))[:200]}.",
            unknown=sorted(set(unknown))[:20],
            known=list(EVENT_TYPES),
        )
    return list(dict.fromkeys(events))


def create_subscription(
    session: Session,
    *,
    organisation_id: uuid.UUID,
    url: str,
    events: Sequence[str],
    description: str,
    now: datetime,
    allow_private: bool,
) -> tuple[WebhookSubscription, str]:
    """Create an enabled subscription; returns it with its secret (never shown again).
    Raises WebhookUrlInvalid, WebhookTargetBlocked or WebhookEventTypeUnknown."""
    check_url(url, allow_private=allow_private)
    secret = new_secret()
    subscription = WebhookSubscription(
        organisation_id=organisation_id,
        url=url,
        description=description,
        events=check_events(events),
        secret=secret,
        enabled=True,
        consecutive_failures=0,
        created_at=now,
        updated_at=now,
    )
    session.add(subscription)
    session.flush()
    return subscription, secret


def get_subscription(
    session: Session, *, organisation_id: uuid.UUID, subscription_id: str, lock: bool = False
) -> WebhookSubscription:
    """The organisation's subscription; another organisation's is not found."""
    try:
        key = uuid.UUID(subscription_id)
    except ValueError:
        raise WebhookNotFound(id=subscription_id[:100]) from None
    subscription = session.get(WebhookSubscription, key, with_for_update=lock)
    if subscription is None or subscription.organisation_id != organisation_id:
        raise WebhookNotFound(id=subscription_id)
    return subscription


def list_subscriptions(
    session: Session, *, organisation_id: uuid.UUID
) -> list[WebhookSubscription]:
    query = (
        select(WebhookSubscription)
        .where(WebhookSubscription.organisation_id == organisation_id)
        .order_by(WebhookSubscription.created_at, WebhookSubscription.id)
    )
    return list(session.scalars(query))


def update_subscription(
    session: Session,
    subscription: WebhookSubscription,
    *,
    now: datetime,
    allow_private: bool,
    url: str | None = None,
    events: Sequence[str] | None = None,
    description: str | None = None,
    enabled: bool | None = None,
    rotate_secret: bool = False,
) -> str | None:
    """Change what is given; returns the new secret if rotated (the old one stops
    signing at once). Enabling resets the failure count and resumes its
    deliveries where they stopped, in order."""
    if url is not None:
        check_url(url, allow_private=allow_private)
        subscription.url = url
    if events is not None:
        subscription.events = check_events(events)
    if description is not None:
        subscription.description = description
    secret = None
    if rotate_secret:
        secret = new_secret()
        subscription.secret = secret
    if enabled is True and not subscription.enabled:
        subscription.enabled = True
        subscription.disabled_reason = None
        subscription.disabled_at = None
        subscription.consecutive_failures = 0
        session.flush()
        wake_next(session, subscription.id, now=now)
    elif enabled is False and subscription.enabled:
        disable(subscription, reason="Disabled through the API.", now=now)
    subscription.updated_at = now
    return secret
