"""The seed 000 types: ``Offer``, ``OfferEvent``, ``OfferEventDate``,
``OfferEventType``, and the objects ``trainers`` and ``access*`` return.

A type is a snapshot built by ``of`` in the thread that read the row (see
context.Context.run); its lists of other rows are DataLoader fields.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

import strawberry
from strawberry.types import Info

from rollcall.domain.events.batches import dates_of_events, events_of_offers, trainers_of_events
from rollcall.intake.graphql.context import Context
from rollcall.intake.graphql.loaders import loader
from rollcall.models import Attendee, Event, Occurrence
from rollcall.models import Offer as OfferRow


@strawberry.enum
class OfferEventType(enum.Enum):
    MEETING = "MEETING"
    WEBINAR = "WEBINAR"
    TRAINING = "TRAINING"
    ELEARNING = "ELEARNING"
    COURSE = "COURSE"
    SCORM = "SCORM"
    VIDEO = "VIDEO"


@strawberry.type
class OfferEventDate:
    id: strawberry.ID
    start_date: datetime
    end_date: datetime

    @classmethod
    def of(cls, occurrence: Occurrence) -> OfferEventDate:
        return cls(
            id=strawberry.ID(str(occurrence.id)),
            start_date=occurrence.starts_at,
            end_date=occurrence.ends_at,
        )


@strawberry.type(description="A trainer: an attendee of the organisation.")
class User:
    id: strawberry.ID
    ref: str
    email: str | None
    name: str | None

    @classmethod
    def of(cls, attendee: Attendee) -> User:
        return cls(
            id=strawberry.ID(str(attendee.id)),
            ref=attendee.ref,
            email=attendee.email,
            name=attendee.name,
        )


@strawberry.type(description="Upstream content, by the id the event's access list holds.")
class Training:
    id: strawberry.ID


@strawberry.type
class Course:
    id: strawberry.ID


@strawberry.type
class ExternalContent:
    id: strawberry.ID


@strawberry.type
class Scorm:
    id: strawberry.ID


@strawberry.type
class Video:
    id: strawberry.ID


def _contents(kind: Any, ids: list[str] | None) -> list[Any]:
    return [kind(id=strawberry.ID(item)) for item in ids or []]


def _dates(session: Any, keys: Any) -> dict[uuid.UUID, list[OfferEventDate]]:
    found = dates_of_events(session, event_ids=keys)
    return {key: [OfferEventDate.of(o) for o in rows] for key, rows in found.items()}


def _trainers(session: Any, keys: Any) -> dict[uuid.UUID, list[User]]:
    found = trainers_of_events(session, event_ids=keys)
    return {key: [User.of(a) for a in rows] for key, rows in found.items()}


@strawberry.type
class OfferEvent:
    id: strawberry.ID
    ref: str | None
    title: str | None
    type: OfferEventType
    max_subscriptions: int | None
    min_subscriptions: int | None
    enrolled_count: int | None
    spots_available: int | None
    waiting_list: bool | None
    closing_date: datetime | None
    price: Decimal | None
    cancelled: bool | None
    publish: bool | None
    access_trainings: list[Training] | None
    access_courses: list[Course] | None
    access_external_contents: list[ExternalContent] | None
    access_scorms: list[Scorm] | None
    access_videos: list[Video] | None
    certificate_id: uuid.UUID | None
    score_threshold: float | None
    event_id: strawberry.Private[uuid.UUID]

    @strawberry.field
    async def dates(self, info: Info[Context, None]) -> list[OfferEventDate] | None:
        return await loader(info.context, "dates", _dates, list).load(self.event_id)

    @strawberry.field
    async def trainers(self, info: Info[Context, None]) -> list[User] | None:
        return await loader(info.context, "trainers", _trainers, list).load(self.event_id)

    @classmethod
    def of(cls, event: Event) -> OfferEvent:
        return cls(
            id=strawberry.ID(str(event.id)),
            event_id=event.id,
            ref=event.ref,
            title=event.name,
            type=OfferEventType(event.type),
            max_subscriptions=event.max_subscriptions,
            min_subscriptions=event.min_subscriptions,
            enrolled_count=event.enrolled_count,
            spots_available=event.spots_available,
            waiting_list=event.waiting_list,
            closing_date=event.registration_end,
            price=event.price,
            cancelled=event.cancelled,
            publish=event.status == "published",
            access_trainings=_contents(Training, event.access_trainings),
            access_courses=_contents(Course, event.access_courses),
            access_external_contents=_contents(ExternalContent, event.access_external_contents),
            access_scorms=_contents(Scorm, event.access_scorms),
            access_videos=_contents(Video, event.access_videos),
            certificate_id=event.certificate_id,
            score_threshold=event.score_threshold,
        )


@strawberry.type
class Offer:
    id: strawberry.ID
    ref: str | None
    title: str
    description: str
    offer_id: strawberry.Private[uuid.UUID]
    organisation_id: strawberry.Private[uuid.UUID]

    @strawberry.field
    async def offer_events(self, info: Info[Context, None]) -> list[OfferEvent]:
        organisation_id = self.organisation_id

        def read(session: Any, keys: Any) -> dict[uuid.UUID, list[OfferEvent]]:
            found = events_of_offers(session, organisation_id=organisation_id, offer_ids=keys)
            return {key: [OfferEvent.of(e) for e in rows] for key, rows in found.items()}

        return await loader(info.context, "offer_events", read, list).load(self.offer_id)

    @classmethod
    def of(cls, offer: OfferRow) -> Offer:
        return cls(
            id=strawberry.ID(str(offer.id)),
            ref=offer.ref,
            title=offer.title,
            description=offer.description,
            offer_id=offer.id,
            organisation_id=offer.organisation_id,
        )
