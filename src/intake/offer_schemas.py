"""Request and response bodies of offers (seed 000: an offer groups events)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, model_validator

from rollcall.intake.event_schemas import Page
from rollcall.intake.fields import Description, Ref, Text
from rollcall.models import Offer

#: An offer's title: the offers table holds 200 characters.
OfferTitle = Annotated[str, Text(200, min_length=1)]


class OfferIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: OfferTitle
    ref: Ref | None = None
    description: Description = ""


class OfferPatch(BaseModel):
    """Only the fields given change; ``ref: null`` clears the ref."""

    model_config = ConfigDict(extra="forbid")

    title: OfferTitle | None = None
    ref: Ref | None = None
    description: Description | None = None

    @model_validator(mode="after")
    def _no_null_for_required(self) -> Self:
        for name in sorted({"title", "description"} & self.model_fields_set):
            if getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}


class OfferOut(BaseModel):
    """An offer as the API shows it: read from the row's attributes, so every
    field here is the column of that name (tests/unit/test_out_models.py
    checks that every column is shown or deliberately left out)."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    ref: str | None
    title: str
    description: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, offer: Offer) -> OfferOut:
        return cls.model_validate(offer, from_attributes=True)


class OfferPage(Page):
    items: list[OfferOut]


class OfferDeleted(BaseModel):
    offer_id: str
