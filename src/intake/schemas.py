"""Request and response bodies (pydantic 2). Field names are snake_case."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator, model_validator

from rollcall.domain.events.content import content_of
from rollcall.domain.events.place import shown_thumbnail
from rollcall.intake.booking_schemas import (
    WINDOW_FIELDS,
    BookingEndsOnIn,
    BookingEndsOnOut,
    BookingStartsOnIn,
    BookingStartsOnOut,
    check_one_way,
    window_columns,
    window_out,
)
from rollcall.intake.event_schemas import (
    DateSpanIn,
    LocalTime,
    RecurrenceIn,
    TrainersIn,
    check_one_offer,
)
from rollcall.intake.fields import (
    ContentIds,
    Count,
    Description,
    Instant,
    Int32,
    Locale,
    PersonName,
    Ref,
    ScoreThreshold,
    TimeZoneName,
    Title,
)
from rollcall.intake.listing_schemas import ListingIn, ListingOut, listing_out
from rollcall.intake.place_schemas import (
    PLACE_FIELDS,
    Banners,
    ImageIn,
    ImageOut,
    VenueIn,
    VenueOut,
    WebUrl,
    stored,
)
from rollcall.models import Event, Job
from rollcall.models.events import EventType

#: Reminder offsets: at most 60 days.
ReminderMinutes = Annotated[int, Int32(ge=1, le=60 * 24 * 60)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EventCreate(Strict):
    name: Title
    type: EventType
    ref: Ref | None = None
    description: Description = ""
    timezone: TimeZoneName = "UTC"
    starts_at: Instant | None = None
    ends_at: Instant | None = None
    max_subscriptions: Count | None = None
    min_subscriptions: Count | None = None
    waiting_list: bool = False
    registration_end: Instant | None = None
    booking_start: Instant | None = None
    #: The booking window as seed 002 has it (the fixed moments are the two above).
    booking_starts_on: BookingStartsOnIn | None = None
    booking_ends_on: BookingEndsOnIn | None = None
    #: In the organisation's catalogue, with categories and tags (seed 002).
    listing: ListingIn | None = None
    price: Decimal | None = Field(default=None, ge=0, max_digits=12, decimal_places=2)
    max_per_attendee: Annotated[int, Int32(ge=1)] | None = None
    #: Reminder mails: minutes before start / after end; null = off.
    reminder_before_minutes: ReminderMinutes | None = None
    reminder_after_minutes: ReminderMinutes | None = None
    booked_per_date: bool = False
    #: Explicit dates (several start/end pairs), or a recurrence rule, or starts_at/ends_at.
    dates: list[DateSpanIn] | None = Field(default=None, max_length=1000)
    recurrence: RecurrenceIn | None = None
    trainers: TrainersIn | None = None
    #: The offer the event belongs to, by id or by ref (not both).
    offer_id: uuid.UUID | None = None
    offer_ref: Ref | None = None
    #: Content access (ids of upstream contents) and completion (seed 000).
    access_trainings: ContentIds = Field(default_factory=list)
    access_courses: ContentIds = Field(default_factory=list)
    access_external_contents: ContentIds = Field(default_factory=list)
    access_scorms: ContentIds = Field(default_factory=list)
    access_videos: ContentIds = Field(default_factory=list)
    certificate_id: uuid.UUID | None = None
    score_threshold: ScoreThreshold | None = None
    #: Where (seed 002 ``configuration`` VENUE) and/or online; banners and thumbnail.
    venue: VenueIn | None = None
    online_url: WebUrl | None = None
    banner: Banners = Field(default_factory=list)
    thumbnail: ImageIn | None = None

    @model_validator(mode="after")
    def _one_way_to_date(self) -> EventCreate:
        ways = [self.dates is not None, self.recurrence is not None, self.starts_at is not None]
        if sum(ways) > 1:
            raise ValueError("give one of dates, recurrence or starts_at/ends_at")
        if (self.starts_at is None) != (self.ends_at is None):
            raise ValueError("starts_at and ends_at go together")
        # min_subscriptions > max_subscriptions is the domain's rule (MIN_ABOVE_MAX,
        # lifecycle.capacity_refusal), the same on create and on PATCH.
        check_one_offer(self)
        check_one_way(self)
        return self

    def columns(self) -> dict[str, Any]:
        """The event's column values from this body, as ``create_event`` takes
        them (REST and GraphQL create through here): the booking window and
        the listing as their columns, the place as stored, the rule as a rule;
        ``dates`` and ``trainers`` are the caller's."""
        fields = self.window_columns(
            self.model_dump(
                exclude={"dates", "recurrence", "trainers", *WINDOW_FIELDS, *PLACE_FIELDS}
            )
        )
        fields |= {name: stored(name, getattr(self, name)) for name in PLACE_FIELDS}
        fields["recurrence"] = self.recurrence.as_rule() if self.recurrence else None
        return fields

    def window_columns(self, fields: dict[str, Any]) -> dict[str, Any]:
        """``fields`` (a dump of this body) with the booking window as columns."""
        values = {**fields, "booking_starts_on": self.booking_starts_on}
        values["booking_ends_on"] = self.booking_ends_on
        out = window_columns(values, set(self.model_fields_set))
        out.pop("listing", None)
        if self.listing is not None:
            out.update(self.listing.columns(only_set=False))
        return out

    @field_validator("ends_at")
    @classmethod
    def _ends_after_start(cls, value: datetime | None, info: Any) -> datetime | None:
        starts = info.data.get("starts_at")
        if value is not None and starts is not None and value <= starts:
            raise ValueError("ends_at must be after starts_at")
        return value


class EventOut(BaseModel):
    id: uuid.UUID
    ref: str | None
    offer_id: uuid.UUID | None
    type: str
    name: str
    description: str
    timezone: str
    status: str
    cancelled: bool
    starts_at: LocalTime | None
    ends_at: LocalTime | None
    max_subscriptions: int | None
    min_subscriptions: int | None
    waiting_list: bool
    registration_end: LocalTime | None
    booking_start: LocalTime | None
    price: Decimal | None
    enrolled_count: int
    waitlisted_count: int
    spots_available: int | None
    created_at: datetime
    updated_at: datetime
    max_per_attendee: int | None = None
    reminder_before_minutes: int | None = None
    reminder_after_minutes: int | None = None
    booked_per_date: bool = False
    recurrence: dict[str, Any] | None = None
    expanded_until: datetime | None = None
    published_at: datetime | None = None
    completed_at: datetime | None = None
    cancelled_at: datetime | None = None
    access_trainings: list[uuid.UUID] = Field(default_factory=list)
    access_courses: list[uuid.UUID] = Field(default_factory=list)
    access_external_contents: list[uuid.UUID] = Field(default_factory=list)
    access_scorms: list[uuid.UUID] = Field(default_factory=list)
    access_videos: list[uuid.UUID] = Field(default_factory=list)
    certificate_id: uuid.UUID | None = None
    score_threshold: float | None = None
    booking_starts_on: BookingStartsOnOut | None = None
    booking_ends_on: BookingEndsOnOut | None = None
    listing: ListingOut | None = None
    venue: VenueOut | None = None
    online_url: str | None = None
    banner: list[ImageOut] = Field(default_factory=list)
    #: As set, else the primary banner, else null.
    thumbnail: ImageOut | None = None

    @classmethod
    def of(cls, event: Event) -> EventOut:
        tz = event.timezone
        return cls(
            id=event.id,
            ref=event.ref,
            offer_id=event.offer_id,
            type=event.type,
            name=event.name,
            description=event.description,
            timezone=tz,
            status=event.status,
            cancelled=event.cancelled,
            starts_at=LocalTime.of(event.starts_at, tz),
            ends_at=LocalTime.of(event.ends_at, tz),
            max_subscriptions=event.max_subscriptions,
            min_subscriptions=event.min_subscriptions,
            waiting_list=event.waiting_list,
            registration_end=LocalTime.of(event.registration_end, tz),
            booking_start=LocalTime.of(event.booking_start, tz),
            price=event.price,
            enrolled_count=event.enrolled_count,
            waitlisted_count=event.waitlisted_count,
            spots_available=event.spots_available,
            created_at=event.created_at,
            updated_at=event.updated_at,
            max_per_attendee=event.max_per_attendee,
            reminder_before_minutes=event.reminder_before_minutes,
            reminder_after_minutes=event.reminder_after_minutes,
            booked_per_date=event.booked_per_date,
            recurrence=event.recurrence,
            expanded_until=event.expanded_until,
            published_at=event.published_at,
            completed_at=event.completed_at,
            cancelled_at=event.cancelled_at,
            venue=VenueOut.model_validate(event.venue) if event.venue else None,
            online_url=event.online_url,
            banner=[ImageOut.model_validate(item) for item in event.banner or ()],
            thumbnail=(
                ImageOut.model_validate(shown)
                if (shown := shown_thumbnail(event.thumbnail, event.banner))
                else None
            ),
            **content_of(event),
            **window_out(event),
            listing=listing_out(event),
        )


class AttendeeIn(Strict):
    ref: Ref = Field(description="The upstream system's id")
    email: EmailStr
    name: PersonName = ""
    timezone: TimeZoneName | None = None
    locale: Locale | None = None


class EnrollingAttendee(AttendeeIn):
    """The attendee of a single enrollment. With an API key ``email`` is
    required (the attendee is created or brought up to date); with the
    attendee's own end-user token only ``ref`` is sent (the attendee as stored)."""

    email: EmailStr | None = Field(  # type: ignore[assignment]
        default=None, description="Required with an API key; not sent with an end-user token"
    )


class EnrollmentRequest(Strict):
    attendee: EnrollingAttendee
    #: Events booked per date take an occurrence or a session; others neither.
    occurrence_id: uuid.UUID | None = None
    session_id: uuid.UUID | None = None


class Progress(BaseModel):
    done: int
    total: int


class JobOut(BaseModel):
    id: uuid.UUID
    type: str
    status: str
    progress: Progress
    result: dict[str, Any] | None
    errors: list[dict[str, Any]]
    attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, job: Job, result: dict[str, Any] | None = None) -> JobOut:
        """``result``: the job's result as it is to be shown (see
        domain.enrollment.queries.current_result); the stored one if None."""
        return cls(
            id=job.id,
            type=job.type,
            status=job.status,
            progress=Progress(done=job.progress_done, total=job.progress_total),
            result=job.result if result is None else result,
            errors=job.errors,
            attempts=job.attempts,
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
        )
