"""Request and response bodies of event management: recurrence, dates, sessions,
occurrences, trainers and PATCH. The core EventCreate / EventOut are in schemas.py."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time
from datetime import date as Date
from decimal import Decimal
from typing import Any, Literal, Self
from zoneinfo import ZoneInfo

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    NaiveDatetime,
    field_validator,
    model_validator,
)

from models import EventSession, Occurrence

Weekday = Literal["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
RuleType = Literal["daily", "weekly", "monthly", "schedule", "does_not_repeat", "timeslots"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EndsIn(_Strict):
    type: Literal["never", "after", "on"] = "never"
    count: int | None = Field(default=None, ge=1, le=10_000)
    date: Date | None = None

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
    duration_minutes: int = Field(ge=1, le=24 * 60)


class RecurrenceIn(_Strict):
    """A recurrence rule; times are local wall-clock times in the event's timezone."""

    type: RuleType
    starts_on: NaiveDatetime = Field(description="Local start, without offset")
    duration_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60)
    interval: int = Field(default=1, ge=1, le=366)
    weekdays: list[Weekday] = Field(default_factory=list, max_length=7)
    month_day: int | None = Field(default=None, ge=-1, le=31)
    nth_weekday: NthWeekdayIn | None = None
    dates: list[NaiveDatetime] = Field(default_factory=list, max_length=1000)
    timeslots: list[TimeslotIn] = Field(default_factory=list, max_length=48)
    ends: EndsIn = Field(default_factory=EndsIn)
    exclusions: list[Date] = Field(default_factory=list, max_length=1000)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        for moment in [self.starts_on, *self.dates]:
            _check_year(moment)
        if self.ends.date is not None and self.ends.date.year > MAX_YEAR:
            raise ValueError(f"ends.date must be before {MAX_YEAR + 1}")
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
    starts_at: AwareDatetime
    ends_at: AwareDatetime

    @model_validator(mode="after")
    def _order(self) -> Self:
        _check_year(self.starts_at)
        _check_year(self.ends_at)
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class TrainersIn(_Strict):
    """Attendees by id and/or by ref."""

    ids: list[uuid.UUID] = Field(default_factory=list, max_length=200)
    refs: list[str] = Field(default_factory=list, max_length=200)


def _check_tz(value: str) -> str:
    from intake.schemas import check_timezone

    return check_timezone(value)


#: PATCH fields that have no "unset" value: null is refused, not stored.
NOT_NULLABLE = frozenset({"name", "type", "description", "timezone", "waiting_list"})

#: Local times outside these years are refused: nobody schedules there, and
#: rule arithmetic near datetime's limits would overflow.
MIN_YEAR, MAX_YEAR = 1970, 2200


def _check_year(value: datetime) -> datetime:
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"the year must be between {MIN_YEAR} and {MAX_YEAR}")
    return value


class EventPatch(_Strict):
    """Only the fields given change. Lifecycle rules decide which may (seed 001)."""

    name: str | None = Field(default=None, min_length=1, max_length=75)
    type: (
        Literal["MEETING", "WEBINAR", "TRAINING", "ELEARNING", "COURSE", "SCORM", "VIDEO"] | None
    ) = None
    ref: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2500)
    timezone: str | None = None
    max_subscriptions: int | None = Field(default=None, ge=0)
    min_subscriptions: int | None = Field(default=None, ge=0)
    waiting_list: bool | None = None
    registration_end: AwareDatetime | None = None
    booking_start: AwareDatetime | None = None
    price: Decimal | None = Field(default=None, ge=0, max_digits=12, decimal_places=2)
    max_per_attendee: int | None = Field(default=None, ge=1)
    reminder_before_minutes: int | None = Field(default=None, ge=1, le=60 * 24 * 60)
    reminder_after_minutes: int | None = Field(default=None, ge=1, le=60 * 24 * 60)
    recurrence: RecurrenceIn | None = None
    dates: list[DateSpanIn] | None = Field(default=None, max_length=1000)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str | None) -> str | None:
        return None if value is None else _check_tz(value)

    @model_validator(mode="after")
    def _no_null_for_required(self) -> Self:
        for name in sorted(NOT_NULLABLE & self.model_fields_set):
            if getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self

    def changes(self) -> dict[str, Any]:
        """The fields the client sent (an explicit null clears a nullable field)."""
        out: dict[str, Any] = {}
        for name in self.model_fields_set:
            value = getattr(self, name)
            if name == "recurrence":
                out[name] = value.as_rule() if value is not None else None
            elif name == "dates":
                out[name] = None if value is None else [(d.starts_at, d.ends_at) for d in value]
            else:
                out[name] = value
        return out


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
        )


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
    name: str = Field(min_length=1, max_length=75)
    capacity: int | None = Field(default=None, ge=0)
    status: Literal["active", "inactive"] = "active"
    starts_at: time | None = Field(default=None, description="Local start on each date")
    duration_minutes: int | None = Field(default=None, ge=1, le=24 * 60)
    occurrences: SessionOccurrencesIn = Field(default_factory=SessionOccurrencesIn)


class SessionPatch(_Strict):
    name: str | None = Field(default=None, min_length=1, max_length=75)
    capacity: int | None = Field(default=None, ge=0)
    status: Literal["active", "inactive"] | None = None
    starts_at: time | None = None
    duration_minutes: int | None = Field(default=None, ge=1, le=24 * 60)
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
    id: uuid.UUID
    event_id: uuid.UUID
    name: str
    capacity: int | None
    status: str
    starts_at: str | None
    duration_minutes: int | None
    occurrences: dict[str, Any]
    enrolled_count: int
    waitlisted_count: int

    @classmethod
    def of(cls, item: EventSession) -> SessionOut:
        return cls(
            id=item.id,
            event_id=item.event_id,
            name=item.name,
            capacity=item.capacity,
            status=item.status,
            starts_at=item.starts_at,
            duration_minutes=item.duration_minutes,
            occurrences=(
                {"type": "all", "ids": []}
                if item.occurrence_ids is None
                else {"type": "specific", "ids": item.occurrence_ids}
            ),
            enrolled_count=item.enrolled_count,
            waitlisted_count=item.waitlisted_count,
        )


class TrainerOut(BaseModel):
    id: uuid.UUID
    ref: str
    name: str
    email: str


class CancelIn(_Strict):
    reason: str = Field(default="", max_length=500)
