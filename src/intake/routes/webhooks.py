"""Webhook subscriptions and their delivery log (scope ``webhooks:write``)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel

from rollcall.domain.clock import utcnow
from rollcall.domain.jobs.outbox import take_written
from rollcall.domain.webhooks.deliveries import list_deliveries, redeliver
from rollcall.domain.webhooks.subscriptions import (
    create_subscription,
    get_subscription,
    list_subscriptions,
    update_subscription,
)
from rollcall.intake.deps import AppSettings, Caller, DbSession, require
from rollcall.intake.fields import Ref
from rollcall.intake.jobs_submit import enqueue_committed
from rollcall.intake.json_body import BoundedJsonRoute
from rollcall.intake.webhook_schemas import (
    DeliveryList,
    DeliveryOut,
    WebhookCreate,
    WebhookList,
    WebhookOut,
    WebhookPatch,
)
from rollcall.models.webhooks import DeliveryState

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"], route_class=BoundedJsonRoute)

Manager = Annotated[Caller, Depends(require("webhooks:write"))]
WebhookId = Annotated[Ref, Path(description="The subscription's id")]
DeliveryId = Annotated[Ref, Path(description="The delivery's id (its `webhook-id`)")]


class Deleted(BaseModel):
    deleted: Literal[True] = True


@router.post("", status_code=201, response_model=WebhookOut, summary="Subscribe to events")
def post_webhook(
    body: WebhookCreate, caller: Manager, session: DbSession, settings: AppSettings
) -> WebhookOut:
    """The answer carries the signing ``secret`` (``whsec_...``), shown only this once."""
    with session.begin():
        subscription, secret = create_subscription(
            session,
            organisation_id=caller.organisation_id,
            url=body.url,
            events=body.events,
            description=body.description,
            now=utcnow(),
            allow_private=settings.webhook_allow_private_targets,
        )
        out = WebhookOut.of(subscription, secret=secret)
    return out


@router.get("", response_model=WebhookList, summary="List the organisation's subscriptions")
def get_webhooks(caller: Manager, session: DbSession) -> WebhookList:
    items = list_subscriptions(session, organisation_id=caller.organisation_id)
    return WebhookList(items=[WebhookOut.of(sub) for sub in items])


@router.get("/{webhook_id}", response_model=WebhookOut, summary="One subscription")
def get_webhook(webhook_id: WebhookId, caller: Manager, session: DbSession) -> WebhookOut:
    sub = get_subscription(
        session, organisation_id=caller.organisation_id, subscription_id=webhook_id
    )
    return WebhookOut.of(sub)


@router.patch(
    "/{webhook_id}",
    response_model=WebhookOut,
    summary="Enable or disable, change its URL or events, rotate its secret",
)
def patch_webhook(
    webhook_id: WebhookId,
    body: WebhookPatch,
    caller: Manager,
    session: DbSession,
    settings: AppSettings,
) -> WebhookOut:
    with session.begin():
        sub = get_subscription(
            session, organisation_id=caller.organisation_id, subscription_id=webhook_id, lock=True
        )
        secret = update_subscription(
            session,
            sub,
            now=utcnow(),
            allow_private=settings.webhook_allow_private_targets,
            url=body.url,
            events=body.events,
            description=body.description,
            enabled=body.enabled,
            rotate_secret=body.rotate_secret,
        )
        out = WebhookOut.of(sub, secret=secret)
        written = take_written(session)  # enabling resumes its deliveries
    enqueue_committed(settings, written)
    return out


@router.delete("/{webhook_id}", response_model=Deleted, summary="Delete a subscription")
def delete_webhook(webhook_id: WebhookId, caller: Manager, session: DbSession) -> Deleted:
    """Its deliveries not sent yet are dropped with it."""
    with session.begin():
        sub = get_subscription(
            session, organisation_id=caller.organisation_id, subscription_id=webhook_id, lock=True
        )
        session.delete(sub)
    return Deleted()


@router.get(
    "/{webhook_id}/deliveries",
    response_model=DeliveryList,
    summary="The delivery log: newest first, each with its attempts",
)
def get_deliveries(
    webhook_id: WebhookId,
    caller: Manager,
    session: DbSession,
    state: Annotated[
        DeliveryState | None, Query(description="Only deliveries in this state")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> DeliveryList:
    sub = get_subscription(
        session, organisation_id=caller.organisation_id, subscription_id=webhook_id
    )
    rows = list_deliveries(session, sub, limit=limit, state=state)
    return DeliveryList(items=[DeliveryOut.of(d, attempts) for d, attempts in rows])


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/redeliver",
    status_code=202,
    response_model=DeliveryOut,
    summary="Send a delivery again (same webhook-id), in its place in the order",
)
def post_redeliver(
    webhook_id: WebhookId,
    delivery_id: DeliveryId,
    caller: Manager,
    session: DbSession,
    settings: AppSettings,
) -> DeliveryOut:
    with session.begin():
        sub = get_subscription(
            session, organisation_id=caller.organisation_id, subscription_id=webhook_id
        )
        delivery = redeliver(session, sub, delivery_id, now=utcnow())
        out = DeliveryOut.of(delivery, [])
        written = take_written(session)
    enqueue_committed(settings, written)
    return out
