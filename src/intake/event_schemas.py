"""Request and response bodies of event management: recurrence, dates, sessions,
occurrences, trainers and PATCH. The core EventCreate / EventOut are in schemas.py."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time
from decimal import Decimal
from typing import Annotated, Any, Literal, Self
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from rollcall.intake.booking_schemas import (
    BookingEndsOnIn,
    BookingStartsOnIn,
    check_one_way,
    window_columns,
)
from rollcall.intake.fields import (
    ContentIds,
    Count,
    Day,
    Description,
    Instant,
    Int32,
    LocalMoment,
    Reason,
    Ref,
    ScoreThreshold,
    TimeZoneName,
    Title,
)
from rollcall.intake.listing_schemas import ListingIn
from rollcall.intake.place_schemas import PLACE_FIELDS, Banners, ImageIn, VenueIn, WebUrl, stored
from rollcall.models import EventSession, Occurrence
from rollcall.models.events import EventType, SessionStatus

Weekday = Literal["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
RuleType = Literal["daily", "weekly", "monthly", "schedule", "does_not_repeat", "timeslots"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EndsIn(_Strict):
    type: Literal["never", "after", "on"] = "never"
    count: Annotated[int, Int32(ge=1, le=10_000)] | None = None
    date: Day | None = None

    @model_validator(mode="after")
    def _complete(self) -> Self:
        if self.type == "after" and self.count is None:
            raise ValueError("ends.count is required when ends.type is 'after'")
        if self.type == "on" and self.date is None:
            raise ValueError("ends.date is required when ends.type is 'on'")
        return self


class NthWeekdayIn(_Strict):
    n: Literal[1, 2, 3, 4, 5, -1]
    weekday: Weekday


class TimeslotIn(_Strict):
    start: time
    duration_minutes: Annotated[int, Int32(ge=1, le=24 * 60)]


class RecurrenceIn(_Strict):
    """A recurrence rule; times are local wall-clock times in the event's timezone."""

    type: RuleType
    starts_on: LocalMoment = Field(description="Local start, without offset")
    duration_minutes: Annotated[int, Int32(ge=1, le=7 * 24 * 60)] = 60
    interval: Annotated[int, Int32(ge=1, le=366)] = 1
    weekdays: list[Weekday] = Field(default_factory=list, max_length=7)
    month_day: Annotated[int, Int32(ge=-1, le=31)] | None = None
    nth_weekday: NthWeekdayIn | None = None
    dates: list[LocalMoment] = Field(default_factory=list, max_length=1000)
    timeslots: list[TimeslotIn] = Field(default_factory=list, max_length=48)
    ends: EndsIn = Field(default_factory=EndsIn)
    exclusions: list[Day] = Field(default_factory=list, max_length=1000)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.month_day == 0:
            raise ValueError("month_day must be 1..31 or -1 (last day)")
        if self.type == "monthly" and self.month_day is not None and self.nth_weekday is not None:
            raise ValueError("give month_day or nth_weekday, not both")
        if self.type == "timeslots" and not self.timeslots:
            raise ValueError("a timeslots rule needs at least one timeslot")
        if self.ends.type == "on" and self.ends.date and self.ends.date < self.starts_on.date():
            raise ValueError("ends.date is before starts_on")
        return self

    def as_rule(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_defaults=False)


class DateSpanIn(_Strict):
    starts_at: Instant
    ends_at: Instant

    @model_validator(mode="after")
    def _order(self) -> Self:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class TrainersIn(_Strict):
    """Attendees by id and/or by ref."""

    ids: list[uuid.UUID] = Field(default_factory=list, max_length=200)
    refs: list[Ref] = Field(default_factory=list, max_length=200)


def check_one_offer(body: BaseModel) -> None:
    """An event names its offer by ``offer_id`` or by ``offer_ref``, not both."""
    if getattr(body, "offer_id", None) is not None and getattr(body, "offer_ref", None) is not None:
        raise ValueError("give offer_id or offer_ref, not both")


#: PATCH fields that have no "unset" value: null is refused, not stored (an
#: access list is emptied with []).
NOT_NULLABLE = frozenset(
    {
        "name",
        "type",
        "description",
        "timezone",
        "waiting_list",
        "access_trainings",
        "access_courses",
        "access_external_contents",
        "access_scorms",
        "access_videos",
        "listing",
        "banner",
        "send_notification",
    }
)


class EventPatch(_Strict):
    """Only the fields given change. Lifecycle rules decide which may (seed 001)."""

    name: Title | None = None
    type: EventType | None = None
    ref: Ref | None = None
    description: Description | None = None
    timezone: TimeZoneName | None = None
    max_subscriptions: Count | None = None
    min_subscriptions: Count | None = None
    waiting_list: bool | None = None
    registration_end: Instant | None = None
    booking_start: Instant | None = None
    #: The booking window as seed 002 has it; null: IMMEDIATE / CONTINUE_UNTIL_EVENT_ENDS.
    booking_starts_on: BookingStartsOnIn | None = None
    booking_ends_on: BookingEndsOnIn | None = None
    #: Listing (seed 002): only the fields given change.
    listing: ListingIn | None = None
    price: Decimal | None = Field(default=None, ge=0, max_digits=12, decimal_places=2)
    max_per_attendee: Annotated[int, Int32(ge=1)] | None = None
    reminder_before_minutes: Annotated[int, Int32(ge=1, le=60 * 24 * 60)] | None = None
    reminder_after_minutes: Annotated[int, Int32(ge=1, le=60 * 24 * 60)] | None = None
    recurrence: RecurrenceIn | None = None
    dates: list[DateSpanIn] | None = Field(default=None, max_length=1000)
    #: Another offer (by id or ref), or null for none.
    offer_id: uuid.UUID | None = None
    offer_ref: Ref | None = None
    access_trainings: ContentIds | None = None
    access_courses: ContentIds | None = None
    access_external_contents: ContentIds | None = None
    access_scorms: ContentIds | None = None
    access_videos: ContentIds | None = None
    certificate_id: uuid.UUID | None = None
    score_threshold: ScoreThreshold | None = None
    #: The place (null clears it) and the look; banner replaces the list.
    venue: VenueIn | None = None
    online_url: WebUrl | None = None
    banner: Banners | None = None
    thumbnail: ImageIn | None = None
    #: Seed 000 ``sendNotification``: a published event's attendees and trainers
    #: get one mail when its venue or online URL changes (false: quietly).
    send_notification: bool = True

    @model_validator(mode="after")
    def _no_null_for_required(self) -> Self:
        for name in sorted(NOT_NULLABLE & self.model_fields_set):
            if getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        check_one_offer(self)
        check_one_way(self)
        return self

    def changes(self) -> dict[str, Any]:
        """The fields the client sent (an explicit null clears a nullable field);
        the booking window as its columns."""
        out: dict[str, Any] = {}
        for name in self.model_fields_set - {"send_notification"}:
            value = getattr(self, name)
            if name in PLACE_FIELDS:
                out[name] = stored(name, value)
            elif name == "recurrence":
                out[name] = value.as_rule() if value is not None else None
            elif name == "dates":
                out[name] = None if value is None else [(d.starts_at, d.ends_at) for d in value]
            elif name == "listing":
                out.update(value.columns(only_set=True))
            else:
                out[name] = value
        return window_columns(out, set(self.model_fields_set))


class LocalTime(BaseModel):
    """An instant in UTC and in the event's local time."""

    utc: datetime
    local: str
    timezone: str

    @classmethod
    def at(cls, moment: datetime, tz: str) -> LocalTime:
        return cls(
            utc=moment.astimezone(UTC),
            local=moment.astimezone(ZoneInfo(tz)).isoformat(),
            timezone=tz,
        )

    @classmethod
    def of(cls, moment: datetime | None, tz: str) -> LocalTime | None:
        return None if moment is None else cls.at(moment, tz)


class OccurrenceOut(BaseModel):
    id: uuid.UUID
    event_id: uuid.UUID
    starts_at: LocalTime
    ends_at: LocalTime
    cancelled: bool
    capacity: int | None
    enrolled_count: int
    waitlisted_count: int
    #: How often this date was rescheduled.
    sequence: int = 0

    @classmethod
    def of(cls, occurrence: Occurrence, tz: str) -> OccurrenceOut:
        return cls(
            id=occurrence.id,
            event_id=occurrence.event_id,
            starts_at=LocalTime.at(occurrence.starts_at, tz),
            ends_at=LocalTime.at(occurrence.ends_at, tz),
            cancelled=occurrence.cancelled,
            capacity=occurrence.capacity,
            enrolled_count=occurrence.enrolled_count,
            waitlisted_count=occurrence.waitlisted_count,
            sequence=occurrence.sequence or 0,
        )


class RescheduleIn(_Strict):
    """A date's new start and end; ``send_notification`` (seed 000, default
    true) mails its attendees and the event's trainers one change notice."""

    starts_at: Instant
    ends_at: Instant
    send_notification: bool = True

    @model_validator(mode="after")
    def _order(self) -> Self:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class Page(BaseModel):
    next_cursor: str | None


class OccurrencePage(Page):
    items: list[OccurrenceOut]


class SessionOccurrencesIn(_Strict):
    type: Literal["all", "specific"] = "all"
    ids: list[uuid.UUID] = Field(default_factory=list, max_length=1000)

    @model_validator(mode="after")
    def _ids(self) -> Self:
        if self.type == "specific" and not self.ids:
            raise ValueError("occurrences.ids is required when occurrences.type is 'specific'")
        if self.type == "all" and self.ids:
            raise ValueError("occurrences.ids is only allowed when occurrences.type is 'specific'")
        return self


class SessionIn(_Strict):
    name: Title
    capacity: Count | None = None
    status: SessionStatus = "active"
    starts_at: time | None = Field(default=None, description="Local start on each date")
    duration_minutes: Annotated[int, Int32(ge=1, le=24 * 60)] | None = None
    occurrences: SessionOccurrencesIn = Field(default_factory=SessionOccurrencesIn)


class SessionPatch(_Strict):
    name: Title | None = None
    capacity: Count | None = None
    status: SessionStatus | None = None
    starts_at: time | None = None
    duration_minutes: Annotated[int, Int32(ge=1, le=24 * 60)] | None = None
    occurrences: SessionOccurrencesIn | None = None


def session_fields(body: SessionIn | SessionPatch, *, only_set: bool) -> dict[str, Any]:
    """Model-column values from a session body."""
    names = body.model_fields_set if only_set else set(type(body).model_fields)
    out: dict[str, Any] = {}
    for name in names:
        value = getattr(body, name)
        if name == "starts_at":
            out[name] = value.strftime("%H:%M") if value is not None else None
        elif name == "occurrences":
            if value is not None:
                out["occurrence_ids"] = None if value.type == "all" else [str(i) for i in value.ids]
        else:
            out[name] = value
    return out


class SessionOut(BaseModel):
    """A session as the API shows it, read from the row's attributes
    (``occurrences`` from ``occurrence_ids``); tests/unit/test_out_models.py
    checks that every column is shown or deliberately left out."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    event_id: uuid.UUID
    name: str
    capacity: int | None
    status: str
    starts_at: str | None
    duration_minutes: int | None
    occurrences: dict[str, Any] = Field(validation_alias="occurrence_ids")
    enrolled_count: int
    waitlisted_count: int

    @field_validator("occurrences", mode="before")
    @classmethod
    def _occurrences(cls, ids: list[str] | None) -> dict[str, Any]:
        # None: the session is on every date of its event.
        return {"type": "all", "ids": []} if ids is None else {"type": "specific", "ids": ids}

    @classmethod
    def of(cls, item: EventSession) -> SessionOut:
        return cls.model_validate(item, from_attributes=True)


class TrainerOut(BaseModel):
    id: uuid.UUID
    ref: str
    name: str
    email: str


class CancelIn(_Strict):
    reason: Reason = ""
