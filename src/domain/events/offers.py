"""Offers: a registration offer groups events (seed 000). Resolution by id or ref
inside one organisation, creation, changes, deletion, listing, and the link
from an event to its offer.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rollcall.domain.errors.events import OfferHasEvents, OfferNotFound, OfferRefTaken
from rollcall.domain.lookup import by_id_or_ref
from rollcall.models import Event, Offer


def get_offer(session: Session, *, organisation_id: uuid.UUID, id_or_ref: str) -> Offer:
    """The organisation's offer with this id or ref (an id first, as for events).

    Another organisation's offer is "not found". Raises OfferNotFound.
    """
    offer = by_id_or_ref(session, Offer, organisation_id=organisation_id, id_or_ref=id_or_ref)
    if offer is None:
        raise OfferNotFound(id=id_or_ref)
    return offer


def offer_link(
    session: Session,
    *,
    organisation_id: uuid.UUID,
    offer_id: uuid.UUID | None,
    offer_ref: str | None,
) -> uuid.UUID | None:
    """The id of the offer an event names by ``offer_id`` or ``offer_ref`` (at
    most one is given: the edge checks), or None for neither. Raises
    OfferNotFound, for another organisation's offer too."""
    if offer_id is not None:
        found = session.scalar(
            select(Offer.id).where(Offer.organisation_id == organisation_id, Offer.id == offer_id)
        )
        if found is None:
            raise OfferNotFound(id=str(offer_id))
        return found
    if offer_ref is not None:
        found = session.scalar(
            select(Offer.id).where(Offer.organisation_id == organisation_id, Offer.ref == offer_ref)
        )
        if found is None:
            raise OfferNotFound(ref=offer_ref)
        return found
    return None


def link_offer(session: Session, *, organisation_id: uuid.UUID, fields: dict[str, Any]) -> None:
    """Replace ``offer_id``/``offer_ref`` in event ``fields`` (create or PATCH)
    by the resolved ``offer_id``; an explicit null of either detaches the
    event. Fields naming no offer are left as they are. Raises OfferNotFound."""
    if "offer_id" not in fields and "offer_ref" not in fields:
        return
    fields["offer_id"] = offer_link(
        session,
        organisation_id=organisation_id,
        offer_id=fields.get("offer_id"),
        offer_ref=fields.pop("offer_ref", None),
    )


def _flush(session: Session, ref: str | None) -> None:
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise OfferRefTaken(ref=ref) from exc


def create_offer(
    session: Session, *, organisation_id: uuid.UUID, fields: dict[str, Any], now: datetime
) -> Offer:
    """A new offer (``title``, ``ref``, ``description``). Raises OfferRefTaken."""
    offer = Offer(organisation_id=organisation_id, created_at=now, updated_at=now, **fields)
    session.add(offer)
    _flush(session, fields.get("ref"))
    return offer


def update_offer(
    session: Session, *, offer: Offer, changes: dict[str, Any], now: datetime
) -> Offer:
    """Apply a PATCH (the fields given). Raises OfferRefTaken."""
    for field, value in changes.items():
        setattr(offer, field, value)
    offer.updated_at = now
    _flush(session, changes.get("ref"))
    return offer


def count_offer_events(session: Session, *, offer_id: uuid.UUID) -> int:
    return int(
        session.scalar(select(func.count()).select_from(Event).where(Event.offer_id == offer_id))
        or 0
    )


def delete_offer(session: Session, *, offer: Offer) -> uuid.UUID:
    """Delete an offer that holds no event (of any state); returns its id.

    Raises OfferHasEvents, also when an event joined it while this ran (the
    foreign key refuses the delete then)."""
    events = count_offer_events(session, offer_id=offer.id)
    if events:
        raise OfferHasEvents(events=events)
    offer_id = offer.id
    try:
        with session.begin_nested():
            session.delete(offer)
            session.flush()
    except IntegrityError as exc:
        raise OfferHasEvents(events=count_offer_events(session, offer_id=offer_id)) from exc
    return offer_id


def list_offers(
    session: Session,
    *,
    organisation_id: uuid.UUID,
    after: tuple[datetime, uuid.UUID] | None = None,
    limit: int = 50,
) -> list[Offer]:
    """The organisation's offers, oldest created first, keyset-paginated."""
    query = select(Offer).where(Offer.organisation_id == organisation_id)
    if after is not None:
        moment, last_id = after
        query = query.where(
            or_(Offer.created_at > moment, and_(Offer.created_at == moment, Offer.id > last_id))
        )
    return list(session.scalars(query.order_by(Offer.created_at, Offer.id).limit(limit)))
