"""Listing as seed 002 has it (``listing: {enabled, categories, tags}``), in
and out, and the columns it is stored in (domain.events.listing)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

from rollcall.domain.events.listing import label_key
from rollcall.intake.fields import Text

#: A category or tag name: at most this many characters.
MAX_LABEL_LENGTH = 50
#: At most this many categories, and as many tags, per event.
MAX_LABELS = 20


def _not_blank(value: str) -> str:
    stripped = value.strip()
    if not stripped:
        raise PydanticCustomError("label_blank", "a category or tag name must not be blank")
    return stripped


def _each_once(values: list[str]) -> list[str]:
    seen: set[str] = set()
    for value in values:
        if label_key(value) in seen:
            raise PydanticCustomError(
                "label_duplicate",
                "{label!r} is given twice (names match whatever their case)",
                {"label": value},
            )
        seen.add(label_key(value))
    return values


#: A category or tag: one line of 1..50 characters, not blank, trimmed.
Label = Annotated[str, Text(MAX_LABEL_LENGTH, min_length=1), AfterValidator(_not_blank)]
Labels = Annotated[list[Label], Field(max_length=MAX_LABELS), AfterValidator(_each_once)]


class ListingIn(BaseModel):
    """Whether the event is in the organisation's catalogue (``GET /v1/catalogue``
    shows it once published), and its categories and tags. On PATCH only the
    fields given change."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    categories: Labels = Field(default_factory=list)
    tags: Labels = Field(default_factory=list)

    def columns(self, *, only_set: bool) -> dict[str, Any]:
        names = self.model_fields_set if only_set else set(type(self).model_fields)
        values = {"enabled": self.enabled, "categories": self.categories, "tags": self.tags}
        column = {"enabled": "listed", "categories": "categories", "tags": "tags"}
        return {column[name]: values[name] for name in names}


class ListingOut(BaseModel):
    enabled: bool
    categories: list[str]
    tags: list[str]


def listing_out(event: Any) -> ListingOut:
    return ListingOut(
        enabled=bool(event.listed),
        categories=list(event.categories or []),
        tags=list(event.tags or []),
    )
