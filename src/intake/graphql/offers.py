"""Seed 000 over GraphQL: the ``offerEvent`` and ``offer`` queries and the
offer and offer-event mutations, each a thin adapter over the domain
function its REST route calls (intake.routes.events, intake.routes.offers)."""

from __future__ import annotations

import uuid

import strawberry
from sqlalchemy.orm import Session
from strawberry.types import Info

from rollcall.domain.clock import utcnow
from rollcall.domain.events.catalog import get_event
from rollcall.domain.events.offers import create_offer, get_offer
from rollcall.intake.graphql.context import Context
from rollcall.intake.graphql.ids import id_or_ref
from rollcall.intake.graphql.offer_types import Offer, OfferEvent
from rollcall.intake.graphql.validation import valid
from rollcall.intake.offer_schemas import OfferIn

#: REST's scopes (intake.deps): reading events, and writing them.
READ = ("events:read", "events:write")
WRITE = ("events:write",)


@strawberry.type
class Query:
    @strawberry.field(description="An event, by id or by ref.")
    async def offer_event(
        self, info: Info[Context, None], id: uuid.UUID | None = None, ref: str | None = None
    ) -> OfferEvent | None:
        caller = await info.context.caller(*READ)
        key = id_or_ref(id, ref)

        def read(session: Session) -> OfferEvent:
            return OfferEvent.of(
                get_event(session, organisation_id=caller.organisation_id, id_or_ref=key)
            )

        return await info.context.run(read)

    @strawberry.field(description="An offer, by id or by ref, with its events.")
    async def offer(
        self, info: Info[Context, None], id: uuid.UUID | None = None, ref: str | None = None
    ) -> Offer | None:
        caller = await info.context.caller(*READ)
        key = id_or_ref(id, ref)

        def read(session: Session) -> Offer:
            return Offer.of(
                get_offer(session, organisation_id=caller.organisation_id, id_or_ref=key)
            )

        return await info.context.run(read)


@strawberry.input
class CreateOfferInput:
    title: str
    ref: str | None = None
    description: str | None = None


@strawberry.type
class CreateOffer:
    offer: Offer


@strawberry.type
class Mutation:
    @strawberry.mutation(description="An offer to group events (the seed needs one).")
    async def create_offer(
        self, info: Info[Context, None], offer: CreateOfferInput
    ) -> CreateOffer | None:
        caller = await info.context.caller(*WRITE)
        body = valid(
            OfferIn,
            {"title": offer.title, "ref": offer.ref, "description": offer.description or ""},
        )

        def write(session: Session) -> CreateOffer:
            created = create_offer(
                session,
                organisation_id=caller.organisation_id,
                fields=body.model_dump(),
                now=utcnow(),
            )
            return CreateOffer(offer=Offer.of(created))

        return await info.context.write(write)
