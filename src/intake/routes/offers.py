"""Offers (seed 000): synchronous, in the request, with the events' scopes.
Every ``{offer_id}`` also accepts the offer's ``ref``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from rollcall.domain.clock import utcnow
from rollcall.domain.events.catalog import list_events
from rollcall.domain.events.offers import (
    create_offer,
    delete_offer,
    get_offer,
    list_offers,
    update_offer,
)
from rollcall.domain.pagination import decode_cursor, page_of
from rollcall.intake.deps import DbSession, EventReader
from rollcall.intake.fields import Ref
from rollcall.intake.json_body import BoundedJsonRoute
from rollcall.intake.offer_schemas import OfferDeleted, OfferIn, OfferOut, OfferPage, OfferPatch
from rollcall.intake.routes.events import Cursor, EventPage, Limit, Writer, event_page

router = APIRouter(prefix="/v1/offers", tags=["offers"], route_class=BoundedJsonRoute)

OfferId = Annotated[Ref, Path(description="The offer's id, or its `ref`")]


@router.post("", status_code=201, response_model=OfferOut, summary="Create an offer")
def post_offer(body: OfferIn, caller: Writer, session: DbSession) -> OfferOut:
    with session.begin():
        offer = create_offer(
            session, organisation_id=caller.organisation_id, fields=body.model_dump(), now=utcnow()
        )
    return OfferOut.of(offer)


@router.get("", response_model=OfferPage, summary="List offers (cursor pagination)")
def get_offers(
    caller: EventReader, session: DbSession, limit: Limit = 50, cursor: Cursor = None
) -> OfferPage:
    offers = list_offers(
        session,
        organisation_id=caller.organisation_id,
        after=decode_cursor(cursor),
        limit=limit + 1,
    )
    items, next_cursor = page_of(offers, limit)
    return OfferPage(items=[OfferOut.of(o) for o in items], next_cursor=next_cursor)


@router.get("/{offer_id}", response_model=OfferOut, summary="Show an offer")
def read_offer(offer_id: OfferId, caller: EventReader, session: DbSession) -> OfferOut:
    return OfferOut.of(
        get_offer(session, organisation_id=caller.organisation_id, id_or_ref=offer_id)
    )


@router.patch("/{offer_id}", response_model=OfferOut, summary="Change an offer's fields")
def patch_offer(
    offer_id: OfferId, body: OfferPatch, caller: Writer, session: DbSession
) -> OfferOut:
    with session.begin():
        offer = get_offer(session, organisation_id=caller.organisation_id, id_or_ref=offer_id)
        update_offer(session, offer=offer, changes=body.changes(), now=utcnow())
    return OfferOut.of(offer)


@router.delete(
    "/{offer_id}", response_model=OfferDeleted, summary="Delete an offer that holds no event"
)
def remove_offer(offer_id: OfferId, caller: Writer, session: DbSession) -> OfferDeleted:
    with session.begin():
        offer = get_offer(session, organisation_id=caller.organisation_id, id_or_ref=offer_id)
        deleted = delete_offer(session, offer=offer)
    return OfferDeleted(offer_id=str(deleted))


@router.get(
    "/{offer_id}/events",
    response_model=EventPage,
    summary="List an offer's events, oldest first (cursor pagination)",
)
def get_offer_events(
    offer_id: OfferId,
    caller: EventReader,
    session: DbSession,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> EventPage:
    offer = get_offer(session, organisation_id=caller.organisation_id, id_or_ref=offer_id)
    events = list_events(
        session,
        organisation_id=caller.organisation_id,
        offer_id=offer.id,
        after=decode_cursor(cursor),
        limit=limit + 1,
    )
    return event_page(events, limit)
