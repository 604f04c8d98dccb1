"""Seed 000's input types, and their translation to REST's request models
(intake.schemas.EventCreate, intake.event_schemas.EventPatch), which check
them: the two edges accept the same values."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

import strawberry

from rollcall.intake.graphql.offer_types import OfferEventType

#: GraphQL input field -> REST body field, where the names differ.
REST_NAMES = {"title": "name", "closing_date": "registration_end"}
#: Input fields that are states for domain.events.state_change, not columns.
STATE_FIELDS = ("publish", "cancelled")


@strawberry.input
class OfferEventDateInput:
    start_date: datetime
    end_date: datetime


@strawberry.input
class _OfferEventFields:
    """The fields seed 000's create and update inputs share (UNSET: not sent)."""

    title: str | None = strawberry.UNSET
    ref: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    dates: list[OfferEventDateInput] | None = strawberry.UNSET
    access_trainings: list[uuid.UUID] | None = strawberry.UNSET
    access_courses: list[uuid.UUID] | None = strawberry.UNSET
    access_external_contents: list[uuid.UUID] | None = strawberry.UNSET
    access_scorms: list[uuid.UUID] | None = strawberry.UNSET
    access_videos: list[uuid.UUID] | None = strawberry.UNSET
    max_subscriptions: int | None = strawberry.UNSET
    min_subscriptions: int | None = strawberry.UNSET
    waiting_list: bool | None = strawberry.UNSET
    price: Decimal | None = strawberry.UNSET
    closing_date: datetime | None = strawberry.UNSET
    certificate_id: uuid.UUID | None = strawberry.UNSET
    score_threshold: float | None = strawberry.UNSET


@strawberry.input
class CreateOfferEventInput(_OfferEventFields):
    type: OfferEventType


@strawberry.input(description="Only the fields given change; publish and cancelled are states.")
class UpdateOfferEventInput(_OfferEventFields):
    type: OfferEventType | None = strawberry.UNSET
    publish: bool | None = strawberry.UNSET
    cancelled: bool | None = strawberry.UNSET


def _value(value: Any) -> Any:
    if isinstance(value, OfferEventType):
        return value.value
    if isinstance(value, list):
        return [_value(item) for item in value]
    if isinstance(value, OfferEventDateInput):
        return {"starts_at": value.start_date, "ends_at": value.end_date}
    return value


def rest_body(given: Any, *, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """The input's fields the client sent, under REST's names and shapes
    (an explicit null stays: it clears a field, or is refused as REST does)."""
    out: dict[str, Any] = {}
    for name, value in vars(given).items():
        if value is strawberry.UNSET or name in skip:
            continue
        out[REST_NAMES.get(name, name)] = _value(value)
    return out


def states_of(given: UpdateOfferEventInput) -> dict[str, bool | None]:
    """``publish`` and ``cancelled`` as sent (None: not sent; null means not sent too)."""
    return {
        name: None if getattr(given, name) is strawberry.UNSET else getattr(given, name)
        for name in STATE_FIELDS
    }
