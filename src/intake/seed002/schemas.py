"""The request bodies of seed 002, as its clients send them. Values are bounded here;
what they mean is decided by Rollcall's own request models (``translate``)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from rollcall.intake.fields import Int32, Text
from rollcall.intake.place_schemas import AddressIn

#: Fields of the seed Rollcall does not model: accepted only when empty.
UNSUPPORTED = (
    "coupons",
    "fees",
    "tax",
    "merchandise",
    "early_bird",
    "refunds",
    "survey_configuration",
    "surveys",
    "qr_code",
    "resources",
)

Word = Annotated[str, Text(64, min_length=1)]
Short = Annotated[str, Text(200)]
#: Any JSON value the seed names but Rollcall does not model (checked empty).
Unmodelled = Any


class _Seed(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _number_as_text(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


class OccurrenceEndsIn(_Seed):
    type: Word = "never"
    #: A count (``after``) or a date (``on``); a JSON number is read as its text.
    value: Annotated[str, BeforeValidator(_number_as_text), Text(32)] | None = None


class OccurrenceAttributesIn(_Seed):
    starts_on: Annotated[str, Text(32, min_length=1)]
    event_duration: Annotated[str, Text(16, min_length=1)] = "1"
    occurrence_ends: OccurrenceEndsIn = Field(default_factory=OccurrenceEndsIn)


class OccurrenceIn(_Seed):
    type: Word
    attributes: OccurrenceAttributesIn
    exclusions: list[Annotated[str, Text(10)]] = Field(default_factory=list, max_length=1000)


class SeedBannerIn(_Seed):
    name: Short = ""
    image: Annotated[str, Text(2000, min_length=1)]
    primary: bool = False


class PlaceValueIn(_Seed):
    """A VENUE attribute's value (Rollcall's venue fields) or an online one's ``url``."""

    name: Short = ""
    image: Annotated[str, Text(2000)] | None = None
    url: Annotated[str, Text(2000)] | None = None
    latitude: Annotated[str, Text(32)] | float | None = None
    longitude: Annotated[str, Text(32)] | float | None = None
    address: AddressIn = Field(default_factory=AddressIn)


class ConfigurationAttributeIn(_Seed):
    name: Short = ""
    value: PlaceValueIn


class ConfigurationIn(_Seed):
    type: Word
    attributes: list[ConfigurationAttributeIn] = Field(default_factory=list, max_length=10)


class SeedListingIn(_Seed):
    enabled: bool = False
    categories: list[Short] = Field(default_factory=list, max_length=50)


class EnabledIn(_Seed):
    enabled: bool = False


class ReminderIn(_Seed):
    enabled: bool = False
    include_ticket: bool = False
    #: Minutes before the start (or after the end).
    reminder_email_time: int | None = Field(default=None, ge=1, le=60 * 24 * 60)


class BookingMomentIn(_Seed):
    """The seed's booking window object; Rollcall's window reads type, utc, offsets."""

    type: Word
    utc: Annotated[str, Text(40)] | None = None
    local: Annotated[str, Text(40)] | None = None
    level: Annotated[str, Text(32)] | None = None
    occurrence_booking_start_type: Annotated[str, Text(64)] | None = None
    occurrence_booking_end_type: Annotated[str, Text(64)] | None = None
    occurrence_booking_start_offset: Annotated[int, Int32(ge=0)] | None = None
    occurrence_booking_end_offset: Annotated[int, Int32(ge=0)] | None = None
    hide_ticket_until_booking_start: bool | None = None


class SettingsIn(_Seed):
    booking_starts_on: BookingMomentIn | None = None
    booking_ends_on: BookingMomentIn | None = None
    event_capacity: int | None = Field(default=None, ge=1, le=2**31 - 1)
    max_ticket_per_customer: int | None = Field(default=None, ge=1, le=2**31 - 1)
    waiting_list: EnabledIn = Field(default_factory=EnabledIn)
    reminder_email_before_event: ReminderIn = Field(default_factory=ReminderIn)
    reminder_email_after_event: ReminderIn = Field(default_factory=ReminderIn)
    sessions: EnabledIn = Field(default_factory=EnabledIn)


class EventIn(_Seed):
    name: Annotated[str, Text(75, min_length=1)]
    description: Annotated[str, Text(2500, multiline=True)] = ""
    is_update_org_settings: bool = False
    occurrence: OccurrenceIn | None = None
    banner: list[SeedBannerIn] = Field(default_factory=list, max_length=20)
    timezone: Annotated[str, Text(64, min_length=1)] = "UTC"
    enable_datetime_conversion: bool = True
    configuration: ConfigurationIn | None = None
    listing: SeedListingIn | None = None
    settings: SettingsIn | None = None
    coupons: Unmodelled = None
    fees: Unmodelled = None
    tax: Unmodelled = None
    merchandise: Unmodelled = None
    early_bird: Unmodelled = None
    refunds: Unmodelled = None
    survey_configuration: Unmodelled = None
    surveys: Unmodelled = None
    qr_code: Unmodelled = None
    resources: Unmodelled = None


class CreateBody(_Seed):
    event: EventIn


class SeedSessionOccurrencesIn(_Seed):
    type: Word = "ALL"
    uuid: list[Annotated[str, Text(36)]] = Field(default_factory=list, max_length=1000)


class SeedTicketsIn(_Seed):
    """Rollcall sells no tickets: accepted only without ticket ids."""

    type: Word | None = None
    uuid: list[Annotated[str, Text(36)]] = Field(default_factory=list, max_length=1000)


class SeedSessionIn(_Seed):
    name: Annotated[str, Text(75, min_length=1)]
    sell_session: bool = True
    status: Word = "ACTIVE"
    description: Annotated[str, Text(2500, multiline=True)] | None = None
    image: Annotated[str, Text(2000)] | None = None
    #: The local start, "YYYY-MM-DD HH:MM", on a date of the session's occurrences.
    session_starts_on: Annotated[str, Text(32, min_length=1)] | None = None
    #: Minutes.
    duration: int | None = Field(default=None, ge=1, le=24 * 60)
    occurrences: SeedSessionOccurrencesIn = Field(default_factory=SeedSessionOccurrencesIn)
    tickets: SeedTicketsIn | None = None


class SeedSessionsBody(_Seed):
    sessions: SeedSessionIn
