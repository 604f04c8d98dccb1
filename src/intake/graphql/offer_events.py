"""Seed 000's offer-event mutations. Each resolver does what its REST route
does (intake.routes.events, intake.routes.event_parts): REST's request model
checks the input, the same domain functions decide, in one transaction."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import strawberry
from sqlalchemy.orm import Session
from strawberry.types import Info

from rollcall.domain.clock import utcnow
from rollcall.domain.events.admin import copy_event, delete_event
from rollcall.domain.events.catalog import create_event, get_event
from rollcall.domain.events.change_notice import notices_due
from rollcall.domain.events.state_change import change_event
from rollcall.domain.events.trainers import add_trainers, remove_trainers
from rollcall.domain.jobs.outbox import take_written
from rollcall.intake.deps import Caller
from rollcall.intake.event_schemas import EventPatch, TrainersIn
from rollcall.intake.graphql.context import Context
from rollcall.intake.graphql.ids import id_or_ref
from rollcall.intake.graphql.offer_inputs import (
    STATE_FIELDS,
    CreateOfferEventInput,
    UpdateOfferEventInput,
    rest_body,
    states_of,
)
from rollcall.intake.graphql.offer_types import OfferEvent
from rollcall.intake.graphql.validation import valid
from rollcall.intake.jobs_submit import enqueue_committed, record_job
from rollcall.intake.routes.events import horizon
from rollcall.intake.schemas import EventCreate

WRITE = ("events:write",)


@strawberry.type
class CreateOfferEvent:
    offer_event: OfferEvent


@strawberry.type
class UpdateOfferEvent:
    offer_event: OfferEvent


@strawberry.type
class DeleteOfferEvent:
    ok: bool


@strawberry.type
class CopyOfferEvent:
    offer_event: OfferEvent


@strawberry.type
class AddTrainersToOfferEvent:
    offer_event: OfferEvent


@strawberry.type
class RemoveTrainersFromOfferEvent:
    offer_event: OfferEvent


def _offer_link(offer_id: uuid.UUID | None, offer_ref: str | None) -> dict[str, object]:
    out: dict[str, object] = {}
    if offer_id is not None:
        out["offer_id"] = offer_id
    if offer_ref is not None:
        out["offer_ref"] = offer_ref
    return out


def _update(
    session: Session,
    context: Context,
    *,
    caller: Caller,
    key: str,
    patch: EventPatch,
    states: dict[str, bool | None],
    send_notification: bool,
) -> OfferEvent:
    """REST's PATCH, publish/unpublish and cancel in one transaction, committed
    with the notices due (change_notice.notices_due: the cancellation's mails as
    POST /v1/events/{id}/cancel sends them, or a published event's change of
    place as PATCH does; none with ``sendNotification: false``)."""
    settings = context.settings
    if session.in_transaction():
        session.rollback()  # a read left open by an earlier field of the document
    session.begin()
    try:
        event = get_event(session, organisation_id=caller.organisation_id, id_or_ref=key)
        changed = change_event(
            session,
            event=event,
            changes=patch.changes(),
            publish=states["publish"],
            cancelled=states["cancelled"],
            now=utcnow(),
            horizon_until=horizon(settings),
        )
        notices = notices_due(
            event,
            old_place=changed.old_place,
            cancelled=changed.cancelled,
            send_notification=send_notification,
        )
        for type, payload in notices:
            record_job(
                session,
                organisation_id=caller.organisation_id,
                type=type,
                payload=payload,
                idempotency_key=None,
                by=caller,
                event_id=event.id,
            )
        # The notices' jobs, promotion mails (capacity raised), webhooks.
        written = take_written(session)
        session.commit()
        enqueue_committed(settings, written)
        return OfferEvent.of(event)
    except BaseException:
        session.rollback()
        raise


@strawberry.type
class Mutation:
    @strawberry.mutation(description="A draft event, in the offer named by offerId or offerRef.")
    async def create_offer_event(
        self,
        info: Info[Context, None],
        offer_event: CreateOfferEventInput,
        offer_id: uuid.UUID | None = None,
        offer_ref: str | None = None,
    ) -> CreateOfferEvent | None:
        caller = await info.context.caller(*WRITE)
        body = valid(EventCreate, rest_body(offer_event) | _offer_link(offer_id, offer_ref))
        settings = info.context.settings
        fields = body.columns()
        dates = [(d.starts_at, d.ends_at) for d in body.dates] if body.dates is not None else None

        def write(session: Session) -> CreateOfferEvent:
            event = create_event(
                session,
                organisation_id=caller.organisation_id,
                fields=fields,
                dates=dates,
                now=utcnow(),
                horizon_until=horizon(settings),
            )
            return CreateOfferEvent(offer_event=OfferEvent.of(event))

        return await info.context.write(write)

    @strawberry.mutation(
        description=(
            "Change an event's fields; publish: true/false publishes or unpublishes, "
            "cancelled: true cancels it. With sendNotification (default true) the "
            "participants are mailed of a cancellation or of a published event's new "
            "venue or online URL; false makes the change quietly."
        )
    )
    async def update_offer_event(
        self,
        info: Info[Context, None],
        offer_event: UpdateOfferEventInput,
        id: uuid.UUID | None = None,
        ref: str | None = None,
        send_notification: bool | None = True,
    ) -> UpdateOfferEvent | None:
        caller = await info.context.caller(*WRITE)
        key = id_or_ref(id, ref)
        patch = valid(EventPatch, rest_body(offer_event, skip=STATE_FIELDS))
        states = states_of(offer_event)
        context = info.context
        updated = await context.run(
            lambda session: _update(
                session,
                context,
                caller=caller,
                key=key,
                patch=patch,
                states=states,
                send_notification=send_notification is not False,
            )
        )
        return UpdateOfferEvent(offer_event=updated)

    @strawberry.mutation(description="Delete a draft event that never had an enrollment.")
    async def delete_offer_event(
        self, info: Info[Context, None], id: uuid.UUID
    ) -> DeleteOfferEvent | None:
        caller = await info.context.caller(*WRITE)

        def write(session: Session) -> DeleteOfferEvent:
            event = get_event(session, organisation_id=caller.organisation_id, id_or_ref=str(id))
            delete_event(session, event=event)
            return DeleteOfferEvent(ok=True)

        return await info.context.write(write)

    @strawberry.mutation(description="Duplicate an event as a new draft (no ref, same title).")
    async def copy_offer_event(
        self, info: Info[Context, None], id: uuid.UUID
    ) -> CopyOfferEvent | None:
        caller = await info.context.caller(*WRITE)
        settings = info.context.settings

        def write(session: Session) -> CopyOfferEvent:
            event = get_event(session, organisation_id=caller.organisation_id, id_or_ref=str(id))
            copy = copy_event(
                session,
                event=event,
                now=utcnow(),
                horizon_until=horizon(settings),
                ref=None,
                name=None,
            )
            return CopyOfferEvent(offer_event=OfferEvent.of(copy))

        return await info.context.write(write)

    @strawberry.mutation(description="Make attendees (by ids and/or refs) trainers of the event.")
    async def add_trainers_to_offer_event(
        self,
        info: Info[Context, None],
        offer_event_id: uuid.UUID | None = None,
        offer_event_ref: str | None = None,
        ids: list[uuid.UUID] | None = None,
        refs: list[str] | None = None,
    ) -> AddTrainersToOfferEvent | None:
        event = await _change_trainers(
            info, add_trainers, offer_event_id, offer_event_ref, ids, refs
        )
        return AddTrainersToOfferEvent(offer_event=event)

    @strawberry.mutation(description="These attendees are no longer trainers of the event.")
    async def remove_trainers_from_offer_event(
        self,
        info: Info[Context, None],
        offer_event_id: uuid.UUID | None = None,
        offer_event_ref: str | None = None,
        ids: list[uuid.UUID] | None = None,
        refs: list[str] | None = None,
    ) -> RemoveTrainersFromOfferEvent | None:
        event = await _change_trainers(
            info, remove_trainers, offer_event_id, offer_event_ref, ids, refs
        )
        return RemoveTrainersFromOfferEvent(offer_event=event)


async def _change_trainers(
    info: Info[Context, None],
    change: Callable[..., object],
    offer_event_id: uuid.UUID | None,
    offer_event_ref: str | None,
    ids: list[uuid.UUID] | None,
    refs: list[str] | None,
) -> OfferEvent:
    """``change`` (domain.events.trainers' add or remove) as REST's trainer
    routes call it, with TrainersIn checking the people."""
    caller = await info.context.caller(*WRITE)
    key = id_or_ref(offer_event_id, offer_event_ref, id_name="offerEventId")
    people = valid(TrainersIn, {"ids": ids or [], "refs": refs or []})

    def write(session: Session) -> OfferEvent:
        event = get_event(session, organisation_id=caller.organisation_id, id_or_ref=key)
        change(session, event=event, ids=people.ids, refs=people.refs)
        return OfferEvent.of(event)

    return await info.context.write(write)
