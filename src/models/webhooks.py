"""Webhook subscriptions, their deliveries and each delivery's attempts (issue 18).

A delivery row is written in the transaction of the change that causes it
(domain.webhooks.record) with an outbox message; the webhook worker sends it
after commit (workers.webhook_delivery). ``seq`` orders the deliveries of a
subscription: one is attempted only once every earlier one is finished.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal, get_args

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from rollcall.models.base import Base, UTCDateTime, new_id

DeliveryState = Literal["pending", "delivering", "retrying", "succeeded", "failed"]
DELIVERY_STATES: tuple[DeliveryState, ...] = get_args(DeliveryState)
#: Not finished: such a delivery holds back the later ones of its subscription.
UNFINISHED_STATES: tuple[DeliveryState, ...] = ("pending", "delivering", "retrying")

#: SQLite makes an INTEGER PRIMARY KEY its rowid (ascending); PostgreSQL a bigint identity.
SEQ_TYPE = BigInteger().with_variant(Integer(), "sqlite")


class WebhookSubscription(Base):
    __tablename__ = "webhook_subscriptions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(String(500), default="")
    events: Mapped[list[str]] = mapped_column(JSON)
    #: ``whsec_`` + base64 of 32 random bytes: the Standard Webhooks signing key.
    secret: Mapped[str] = mapped_column(String(100))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Why it was disabled, for the operator (410 Gone, too many failures, by the API).
    disabled_reason: Mapped[str | None] = mapped_column(String(300), nullable=True)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    #: Deliveries failed for good in a row; a success resets it.
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WebhookDelivery(Base):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # The order check of every claim, and the next delivery to wake.
        Index("ix_webhook_deliveries_order", "subscription_id", "state", "seq"),
        Index("ix_webhook_deliveries_state", "state"),
    )

    seq: Mapped[int] = mapped_column(SEQ_TYPE, primary_key=True, autoincrement=True)
    #: The ``webhook-id`` (as ``msg_<hex>``): the same on every attempt and redelivery.
    id: Mapped[uuid.UUID] = mapped_column(unique=True, default=new_id)
    subscription_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE")
    )
    organisation_id: Mapped[uuid.UUID] = mapped_column()
    event_type: Mapped[str] = mapped_column(String(40))
    #: The body sent: {"type", "timestamp", "data"}.
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    #: When a sender claimed it (``delivering``): its lease starts here.
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(300), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class WebhookAttempt(Base):
    __tablename__ = "webhook_attempts"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    delivery_seq: Mapped[int] = mapped_column(
        SEQ_TYPE, ForeignKey("webhook_deliveries.seq", ondelete="CASCADE"), index=True
    )
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: The HTTP status, or None when there was no answer (timeout, connection, blocked).
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str | None] = mapped_column(String(300), nullable=True)
    #: The first characters of the answer's body.
    response_excerpt: Mapped[str] = mapped_column(String(500), default="")
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
