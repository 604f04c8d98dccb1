"""Webhook subscriptions and deliveries."""

from __future__ import annotations

from rollcall.domain.errors import Conflict, Invalid, NotFound


class WebhookNotFound(NotFound):
    """No such webhook subscription in this organisation."""

    code = "WEBHOOK_NOT_FOUND"


class WebhookDeliveryNotFound(NotFound):
    """No such delivery of this webhook subscription."""

    code = "WEBHOOK_DELIVERY_NOT_FOUND"


class WebhookUrlInvalid(Invalid):
    """The webhook URL must be an absolute http:// or https:// URL with a host."""

    code = "WEBHOOK_URL_INVALID"


class WebhookTargetBlocked(Invalid):
    """The webhook URL points at a loopback, private, link-local or metadata address."""

    code = "WEBHOOK_TARGET_BLOCKED"


class WebhookEventTypeUnknown(Invalid):
    """An event type of the webhook is not one Rollcall sends."""

    code = "WEBHOOK_EVENT_TYPE_UNKNOWN"


class WebhookDeliveryInProgress(Conflict):
    """The delivery is being attempted right now; redeliver it once it is finished."""

    code = "WEBHOOK_DELIVERY_IN_PROGRESS"
