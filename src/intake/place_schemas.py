"""Where an event happens and how it looks (seed 002): the venue (``configuration``
VENUE), the online URL, the banners and the thumbnail.

Refusals are VALIDATION_ERROR (422) with ``details.errors[].type`` naming the
reason: ``greater_than_equal`` / ``less_than_equal`` (a coordinate out of
range), ``finite_number``, ``coordinates_incomplete`` (a latitude without a
longitude or the reverse), ``url_parsing`` / ``url_scheme`` / ``url_too_long``
(a URL that is not an absolute http(s) URL of at most 2,000 characters) and
``banner_primary_not_unique`` (two banners marked primary).
"""

from __future__ import annotations

from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    UrlConstraints,
    model_validator,
)
from pydantic_core import PydanticCustomError

from rollcall.intake.fields import Text

#: An absolute http(s) URL, at most 2,000 characters.
WebUrl = Annotated[HttpUrl, UrlConstraints(max_length=2000)]
Line = Annotated[str, Text(200)]
Latitude = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
Longitude = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]
#: Most banners one event may hold.
MAX_BANNERS = 20


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AddressIn(_Strict):
    address_line1: Line = ""
    address_line2: Line = ""
    city: Line = ""
    state: Line = ""
    country: Line = ""
    post_code: Annotated[str, Text(32)] = ""


class VenueIn(_Strict):
    """Seed 002's VENUE attribute: a name, the map ``url`` and ``image``, the
    coordinates (both or neither) and the address."""

    name: Annotated[str, Text(200, min_length=1)]
    url: WebUrl | None = Field(default=None, description="A map of the venue")
    image: WebUrl | None = None
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    address: AddressIn = Field(default_factory=AddressIn)

    @model_validator(mode="after")
    def _both_coordinates(self) -> Self:
        if (self.latitude is None) != (self.longitude is None):
            raise PydanticCustomError(
                "coordinates_incomplete", "latitude and longitude go together"
            )
        return self


class ImageIn(_Strict):
    name: Line = ""
    image: WebUrl


class BannerIn(ImageIn):
    primary: bool = False


def _one_primary(banners: list[BannerIn]) -> list[BannerIn]:
    if sum(1 for banner in banners if banner.primary) > 1:
        raise PydanticCustomError("banner_primary_not_unique", "at most one banner may be primary")
    return banners


Banners = Annotated[list[BannerIn], Field(max_length=MAX_BANNERS), AfterValidator(_one_primary)]

#: The place and look fields of an event body, as the API names them.
PLACE_FIELDS = ("venue", "online_url", "banner", "thumbnail")


def stored(name: str, value: Any) -> Any:
    """A place field's value as the events table stores it (JSON, URLs as text)."""
    if value is None:
        return None
    if name == "online_url":
        return str(value)
    if name == "banner":
        return [banner.model_dump(mode="json") for banner in value]
    return value.model_dump(mode="json")


class AddressOut(BaseModel):
    address_line1: str = ""
    address_line2: str = ""
    city: str = ""
    state: str = ""
    country: str = ""
    post_code: str = ""


class VenueOut(BaseModel):
    name: str
    url: str | None = None
    image: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    address: AddressOut = Field(default_factory=AddressOut)


class ImageOut(BaseModel):
    name: str
    image: str
    primary: bool = False
