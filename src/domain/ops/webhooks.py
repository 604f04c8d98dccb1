"""What /metrics and the operators' dashboard read about webhooks."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rollcall.models import WebhookDelivery, WebhookSubscription
from rollcall.models.webhooks import DELIVERY_STATES, UNFINISHED_STATES


def delivery_counts(
    session: Session, *, organisation_id: uuid.UUID | None = None
) -> dict[str, int]:
    """Deliveries by state (every state, zeros included); all organisations if None."""
    query = select(WebhookDelivery.state, func.count()).group_by(WebhookDelivery.state)
    if organisation_id is not None:
        query = query.where(WebhookDelivery.organisation_id == organisation_id)
    counts: dict[str, int] = dict.fromkeys(DELIVERY_STATES, 0)
    for state, count in session.execute(query):
        counts[str(state)] = int(count)
    return counts


def backlog(session: Session, *, now: datetime) -> tuple[int, float]:
    """Deliveries not finished yet, and the oldest one's age in seconds."""
    count, oldest = session.execute(
        select(func.count(), func.min(WebhookDelivery.created_at)).where(
            WebhookDelivery.state.in_(UNFINISHED_STATES)
        )
    ).one()
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    return int(count), (now - oldest).total_seconds() if oldest else 0.0


@dataclass(frozen=True)
class SubscriptionRow:
    id: uuid.UUID
    url: str
    description: str
    events: list[str]
    enabled: bool
    disabled_reason: str | None
    consecutive_failures: int
    unfinished: int
    failed: int
    last_error: str | None


def subscription_rows(session: Session, *, organisation_id: uuid.UUID) -> list[SubscriptionRow]:
    """The organisation's subscriptions, failing ones first (disabled, then by failures)."""
    subs = list(
        session.scalars(
            select(WebhookSubscription).where(
                WebhookSubscription.organisation_id == organisation_id
            )
        )
    )
    counts: dict[tuple[uuid.UUID, str], int] = {}
    for sid, state, count in session.execute(
        select(WebhookDelivery.subscription_id, WebhookDelivery.state, func.count())
        .where(WebhookDelivery.organisation_id == organisation_id)
        .group_by(WebhookDelivery.subscription_id, WebhookDelivery.state)
    ):
        counts[(sid, str(state))] = int(count)
    last_errors = dict(
        session.execute(
            select(WebhookDelivery.subscription_id, WebhookDelivery.last_error)
            .where(
                WebhookDelivery.organisation_id == organisation_id,
                WebhookDelivery.last_error.is_not(None),
            )
            .order_by(WebhookDelivery.seq)
        ).all()
    )
    rows = [
        SubscriptionRow(
            id=sub.id,
            url=sub.url,
            description=sub.description,
            events=list(sub.events),
            enabled=sub.enabled,
            disabled_reason=sub.disabled_reason,
            consecutive_failures=sub.consecutive_failures,
            unfinished=sum(counts.get((sub.id, state), 0) for state in UNFINISHED_STATES),
            failed=counts.get((sub.id, "failed"), 0),
            last_error=last_errors.get(sub.id),
        )
        for sub in subs
    ]
    return sorted(rows, key=lambda r: (r.enabled, -r.consecutive_failures, -r.failed, r.url))


def recent_deliveries(
    session: Session, *, organisation_id: uuid.UUID, state: str | None, limit: int = 100
) -> list[tuple[WebhookDelivery, str]]:
    """The organisation's newest deliveries (with their subscription's URL)."""
    query = (
        select(WebhookDelivery, WebhookSubscription.url)
        .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
        .where(WebhookDelivery.organisation_id == organisation_id)
    )
    if state:
        query = query.where(WebhookDelivery.state == state)
    rows = session.execute(query.order_by(WebhookDelivery.seq.desc()).limit(limit)).all()
    return [(delivery, str(url)) for delivery, url in rows]
