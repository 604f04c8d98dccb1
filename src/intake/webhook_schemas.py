"""Request and response bodies of /v1/webhooks."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field

from rollcall.domain.webhooks.deliveries import webhook_id
from rollcall.domain.webhooks.event_types import EVENT_TYPES
from rollcall.intake.fields import Text
from rollcall.intake.schemas import Strict
from rollcall.models import WebhookAttempt, WebhookDelivery, WebhookSubscription

#: An http(s) URL; its shape is checked by domain.webhooks.targets (WEBHOOK_URL_INVALID).
#: The schema says ``format: uri`` so that clients (and the fuzzer) send one.
WebhookUrl = Annotated[str, Text(2000, min_length=1), Field(json_schema_extra={"format": "uri"})]
#: The schema lists the types (``enum``); an unknown one is still answered by
#: the domain's WEBHOOK_EVENT_TYPE_UNKNOWN, with the list in its details.
EventType = Annotated[
    str, Text(40, min_length=1), Field(json_schema_extra={"enum": list(EVENT_TYPES)})
]
#: At most every type once (a longer list is refused before it is read further).
EventTypes = Annotated[list[EventType], Field(min_length=1, max_length=len(EVENT_TYPES))]
WebhookDescription = Annotated[str, Text(500)]


class WebhookCreate(Strict):
    url: WebhookUrl
    events: EventTypes
    description: WebhookDescription = ""


class WebhookPatch(Strict):
    url: WebhookUrl | None = None
    events: EventTypes | None = None
    description: WebhookDescription | None = None
    enabled: bool | None = None
    #: True: a new secret, returned once in this answer; the old one stops signing at once.
    rotate_secret: bool = False


class WebhookOut(BaseModel):
    id: uuid.UUID
    url: str
    description: str
    events: list[str]
    enabled: bool
    disabled_reason: str | None
    disabled_at: datetime | None
    consecutive_failures: int
    created_at: datetime
    updated_at: datetime
    #: Only in the answer that created it or rotated it.
    secret: str | None = None

    @classmethod
    def of(cls, sub: WebhookSubscription, *, secret: str | None = None) -> WebhookOut:
        return cls(
            id=sub.id,
            url=sub.url,
            description=sub.description,
            events=list(sub.events),
            enabled=sub.enabled,
            disabled_reason=sub.disabled_reason,
            disabled_at=sub.disabled_at,
            consecutive_failures=sub.consecutive_failures,
            created_at=sub.created_at,
            updated_at=sub.updated_at,
            secret=secret,
        )


class WebhookList(BaseModel):
    items: list[WebhookOut]


class AttemptOut(BaseModel):
    attempted_at: datetime
    status_code: int | None
    error: str | None
    response_excerpt: str
    duration_ms: int

    @classmethod
    def of(cls, attempt: WebhookAttempt) -> AttemptOut:
        return cls(
            attempted_at=attempt.attempted_at,
            status_code=attempt.status_code,
            error=attempt.error,
            response_excerpt=attempt.response_excerpt,
            duration_ms=attempt.duration_ms,
        )


class DeliveryOut(BaseModel):
    #: The ``webhook-id`` header of every attempt.
    id: str
    type: str
    state: str
    attempts: int
    next_attempt_at: datetime | None
    created_at: datetime
    finished_at: datetime | None
    payload: dict[str, Any]
    attempt_log: list[AttemptOut]

    @classmethod
    def of(cls, delivery: WebhookDelivery, attempts: list[WebhookAttempt]) -> DeliveryOut:
        return cls(
            id=webhook_id(delivery),
            type=delivery.event_type,
            state=delivery.state,
            attempts=delivery.attempts,
            next_attempt_at=delivery.next_attempt_at,
            created_at=delivery.created_at,
            finished_at=delivery.finished_at,
            payload=delivery.payload,
            attempt_log=[AttemptOut.of(a) for a in attempts],
        )


class DeliveryList(BaseModel):
    items: list[DeliveryOut]
