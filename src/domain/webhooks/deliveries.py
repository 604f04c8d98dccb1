"""Deliveries: claimed in their subscription's order, attempts recorded, redelivered.

**Order.** Each delivery has a number (``seq``) given when the change that
causes it is recorded. A delivery is claimed only when no earlier delivery of
its subscription is unfinished (``pending``, ``delivering`` or ``retrying``):
while one is being retried, the later ones wait behind it. Whoever finishes a
delivery (succeeded or failed for good) wakes the next one through the outbox
(``wake_next``), in the same transaction, so a waiting delivery is never lost.

**Leases.** A claim (``delivering``) lasts ``webhook_lease_seconds``; a sender
that died mid-delivery leaves it claimed, and past the lease it is sent again,
with the same ``webhook-id``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, aliased

from rollcall.domain.errors.webhooks import WebhookDeliveryInProgress, WebhookDeliveryNotFound
from rollcall.domain.jobs import actor_names
from rollcall.domain.jobs.outbox import add_message
from rollcall.domain.webhooks.policy import RetryPolicy, retry_delay_ms, should_disable, verdict
from rollcall.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from rollcall.models.webhooks import UNFINISHED_STATES

DELIVER_ACTOR = actor_names.DELIVER_WEBHOOK


def webhook_id(delivery: WebhookDelivery) -> str:
    """The ``webhook-id`` header: the same on every attempt of this delivery."""
    return f"msg_{delivery.id.hex}"


def send_later(session: Session, delivery: WebhookDelivery, *, now: datetime) -> None:
    """An outbox message for this delivery (sent after the commit)."""
    add_message(session, actor=DELIVER_ACTOR, args=[str(delivery.id)], now=now)


def wake_next(session: Session, subscription_id: uuid.UUID, *, now: datetime) -> None:
    """Send the subscription's first unfinished delivery (it waited its turn)."""
    first = session.scalar(
        select(WebhookDelivery)
        .where(
            WebhookDelivery.subscription_id == subscription_id,
            WebhookDelivery.state.in_(UNFINISHED_STATES),
        )
        .order_by(WebhookDelivery.seq)
        .limit(1)
    )
    if first is not None:
        send_later(session, first, now=now)


def disable(subscription: WebhookSubscription, *, reason: str, now: datetime) -> None:
    """Stop sending to it; its deliveries wait until it is enabled again."""
    subscription.enabled = False
    subscription.disabled_reason = reason[:300]
    subscription.disabled_at = now
    subscription.updated_at = now


@dataclass(frozen=True)
class Claimed:
    """What a sender needs, read inside the claim transaction."""

    seq: int
    webhook_id: str
    url: str
    secret: str
    payload: dict[str, Any]
    attempts: int


@dataclass(frozen=True)
class NotNow:
    """Not claimed: ``retry_in_ms`` says when to look again (None: never, the
    delivery is finished, paused or waiting for an earlier one that will wake it)."""

    why: Literal["missing", "finished", "paused", "waiting", "not due", "claimed"]
    retry_in_ms: int | None = None


def _earlier_unfinished(delivery: WebhookDelivery) -> Any:
    earlier = aliased(WebhookDelivery)
    return exists().where(
        earlier.subscription_id == delivery.subscription_id,
        earlier.seq < delivery.seq,
        earlier.state.in_(UNFINISHED_STATES),
    )


def claim_delivery(
    session: Session, delivery_id: uuid.UUID, *, now: datetime, lease_seconds: int
) -> Claimed | NotNow:
    """Claim the delivery for one attempt (in the caller's transaction, which
    should commit before the attempt), or say why not."""
    delivery = session.scalar(
        select(WebhookDelivery).where(WebhookDelivery.id == delivery_id).with_for_update()
    )
    if delivery is None:
        return NotNow("missing")
    if delivery.state not in UNFINISHED_STATES:
        return NotNow("finished")
    subscription = session.get(WebhookSubscription, delivery.subscription_id)
    if subscription is None:
        return NotNow("missing")
    if not subscription.enabled:
        return NotNow("paused")
    if session.scalar(select(_earlier_unfinished(delivery))):
        return NotNow("waiting")
    if delivery.state == "delivering" and delivery.claimed_at is not None:
        lease_end = delivery.claimed_at + timedelta(seconds=lease_seconds)
        if lease_end > now:
            return NotNow("claimed", _ms(lease_end - now))
    due = delivery.next_attempt_at
    if delivery.state == "retrying" and due is not None and due > now:
        return NotNow("not due", _ms(due - now))
    delivery.state = "delivering"
    delivery.claimed_at = now
    delivery.attempts += 1
    return Claimed(
        seq=delivery.seq,
        webhook_id=webhook_id(delivery),
        url=subscription.url,
        secret=subscription.secret,
        payload=dict(delivery.payload),
        attempts=delivery.attempts,
    )


def _ms(delta: timedelta) -> int:
    return max(int(delta.total_seconds() * 1000) + 1, 1)


@dataclass(frozen=True)
class AttemptResult:
    status_code: int | None
    error: str | None
    excerpt: str
    duration_ms: int


def record_attempt(
    session: Session,
    seq: int,
    result: AttemptResult,
    *,
    now: datetime,
    policy: RetryPolicy,
    disable_after: int,
) -> tuple[str, int | None]:
    """Record an attempt and what it makes of the delivery; returns (state,
    ms until the retry or None). A success resets the subscription's failure
    count; 410 disables it; a delivery failed for good counts one more failure
    in a row and may disable it. A finished delivery wakes the next one."""
    delivery = session.get(WebhookDelivery, seq, with_for_update=True)
    if delivery is None:
        return "missing", None
    subscription = session.get(WebhookSubscription, delivery.subscription_id, with_for_update=True)
    session.add(
        WebhookAttempt(
            delivery_seq=seq,
            attempted_at=now,
            status_code=result.status_code,
            error=(result.error or None) and (result.error or "")[:300],
            response_excerpt=result.excerpt[:500],
            duration_ms=result.duration_ms,
        )
    )
    delivery.last_status = result.status_code
    delivery.last_error = (result.error or None) and (result.error or "")[:300]
    decided = verdict(
        result.status_code,
        attempts=delivery.attempts,
        created_at=delivery.created_at,
        now=now,
        policy=policy,
    )
    delay: int | None = None
    if decided == "retrying":
        delay = retry_delay_ms(policy, delivery.attempts)
        delivery.state = "retrying"
        delivery.next_attempt_at = now + timedelta(milliseconds=delay)
        return "retrying", delay
    delivery.state = "succeeded" if decided == "succeeded" else "failed"
    delivery.finished_at = now
    delivery.next_attempt_at = None
    if subscription is not None:
        if decided == "succeeded":
            subscription.consecutive_failures = 0
        elif decided == "gone":
            disable(subscription, reason="The endpoint answered 410 Gone.", now=now)
        else:
            subscription.consecutive_failures += 1
            if subscription.enabled and should_disable(
                subscription.consecutive_failures, disable_after
            ):
                disable(
                    subscription,
                    reason=(
                        f"{subscription.consecutive_failures} deliveries in a row failed "
                        f"(last: {delivery.last_error or delivery.last_status})."
                    ),
                    now=now,
                )
        session.flush()
        if subscription.enabled:
            wake_next(session, subscription.id, now=now)
    return delivery.state, None


def get_delivery(
    session: Session, subscription: WebhookSubscription, delivery_id: str
) -> WebhookDelivery:
    try:
        key = uuid.UUID(delivery_id.removeprefix("msg_"))
    except ValueError:
        raise WebhookDeliveryNotFound(id=delivery_id[:100]) from None
    delivery = session.scalar(
        select(WebhookDelivery).where(WebhookDelivery.id == key).with_for_update()
    )
    if delivery is None or delivery.subscription_id != subscription.id:
        raise WebhookDeliveryNotFound(id=delivery_id)
    return delivery


def redeliver(
    session: Session, subscription: WebhookSubscription, delivery_id: str, *, now: datetime
) -> WebhookDelivery:
    """Send a delivery again, with the same ``webhook-id``, as soon as its turn
    comes (it keeps its place in the order). Raises WebhookDeliveryNotFound, or
    WebhookDeliveryInProgress while an attempt is under way."""
    delivery = get_delivery(session, subscription, delivery_id)
    if delivery.state == "delivering":
        raise WebhookDeliveryInProgress(id=webhook_id(delivery))
    delivery.state = "pending"
    delivery.next_attempt_at = None
    delivery.finished_at = None
    session.flush()
    send_later(session, delivery, now=now)
    return delivery


def list_deliveries(
    session: Session, subscription: WebhookSubscription, *, limit: int, state: str | None = None
) -> list[tuple[WebhookDelivery, list[WebhookAttempt]]]:
    """Newest first, each with its attempts (oldest first)."""
    query = select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription.id)
    if state is not None:
        query = query.where(WebhookDelivery.state == state)
    deliveries = list(session.scalars(query.order_by(WebhookDelivery.seq.desc()).limit(limit)))
    attempts: dict[int, list[WebhookAttempt]] = {d.seq: [] for d in deliveries}
    if deliveries:
        for attempt in session.scalars(
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_seq.in_(list(attempts)))
            .order_by(WebhookAttempt.attempted_at, WebhookAttempt.id)
        ):
            attempts[attempt.delivery_seq].append(attempt)
    return [(d, attempts[d.seq]) for d in deliveries]
