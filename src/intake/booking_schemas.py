"""The booking window of an event as seed 002 has it: ``booking_starts_on`` and
``booking_ends_on``, in and out, and the columns they are stored in. The rule
that reads them is domain.enrollment.booking_window."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Self
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, model_validator

from rollcall.domain.enrollment.admission import window_of
from rollcall.domain.enrollment.booking_window import EndType, StartType
from rollcall.intake.fields import Instant, Int32

#: The request fields of the window that are not columns.
WINDOW_FIELDS = frozenset({"booking_starts_on", "booking_ends_on"})

#: An offset before each occurrence starts, in minutes: 0 .. 366 days.
MAX_OFFSET_MINUTES = 366 * 24 * 60
OffsetMinutes = Annotated[int, Int32(ge=0, le=MAX_OFFSET_MINUTES)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _check_shape(
    kind: str, type_: str, utc: datetime | None, offset: int | None, name: str
) -> None:
    if type_ == "ON_DATE" and utc is None:
        raise ValueError(f"{kind}.utc is required when {kind}.type is 'ON_DATE'")
    if type_ != "ON_DATE" and utc is not None:
        raise ValueError(f"{kind}.utc is only allowed when {kind}.type is 'ON_DATE'")
    if type_ == "BEFORE_OCCURRENCE" and offset is None:
        raise ValueError(f"{kind}.{name} is required when {kind}.type is 'BEFORE_OCCURRENCE'")
    if type_ != "BEFORE_OCCURRENCE" and offset is not None:
        raise ValueError(f"{kind}.{name} is only allowed when {kind}.type is 'BEFORE_OCCURRENCE'")


class BookingStartsOnIn(_Strict):
    """When booking opens: at once, at ``utc``, or ``occurrence_booking_start_offset``
    minutes before each occurrence starts."""

    type: StartType
    utc: Instant | None = None
    occurrence_booking_start_offset: OffsetMinutes | None = Field(
        default=None, description="Minutes before each occurrence starts (BEFORE_OCCURRENCE)"
    )

    @model_validator(mode="after")
    def _shape(self) -> Self:
        _check_shape(
            "booking_starts_on",
            self.type,
            self.utc,
            self.occurrence_booking_start_offset,
            "occurrence_booking_start_offset",
        )
        return self

    def columns(self) -> dict[str, Any]:
        return {
            "booking_start": self.utc,
            "booking_start_offset_minutes": self.occurrence_booking_start_offset,
        }


class BookingEndsOnIn(_Strict):
    """When booking closes: when the occurrence ends, at ``utc``, or
    ``occurrence_booking_end_offset`` minutes before each occurrence starts.
    An occurrence that has ended never takes an enrollment, whatever this says."""

    type: EndType
    utc: Instant | None = None
    occurrence_booking_end_offset: OffsetMinutes | None = Field(
        default=None, description="Minutes before each occurrence starts (BEFORE_OCCURRENCE)"
    )

    @model_validator(mode="after")
    def _shape(self) -> Self:
        _check_shape(
            "booking_ends_on",
            self.type,
            self.utc,
            self.occurrence_booking_end_offset,
            "occurrence_booking_end_offset",
        )
        return self

    def columns(self) -> dict[str, Any]:
        return {
            "registration_end": self.utc,
            "booking_end_offset_minutes": self.occurrence_booking_end_offset,
        }


def check_one_way(body: BaseModel) -> None:
    """The closing date is ``registration_end`` or ``booking_ends_on``, the
    opening ``booking_start`` or ``booking_starts_on``: one of each pair."""
    given = body.model_fields_set
    if {"registration_end", "booking_ends_on"} <= given:
        raise ValueError("give registration_end or booking_ends_on, not both")
    if {"booking_start", "booking_starts_on"} <= given:
        raise ValueError("give booking_start or booking_starts_on, not both")


def window_columns(values: dict[str, Any], given: set[str]) -> dict[str, Any]:
    """The column values of the window fields in ``values`` (create or PATCH):
    ``booking_starts_on``/``booking_ends_on`` become their columns, and a
    fixed ``booking_start``/``registration_end`` clears the offset it replaces."""
    out = {k: v for k, v in values.items() if k not in ("booking_starts_on", "booking_ends_on")}
    if "booking_starts_on" in given and values.get("booking_starts_on") is not None:
        out.update(values["booking_starts_on"].columns())
    elif "booking_starts_on" in given:
        out.update(booking_start=None, booking_start_offset_minutes=None)
    if "booking_ends_on" in given and values.get("booking_ends_on") is not None:
        out.update(values["booking_ends_on"].columns())
    elif "booking_ends_on" in given:
        out.update(registration_end=None, booking_end_offset_minutes=None)
    if "booking_start" in given:
        out["booking_start_offset_minutes"] = None
    if "registration_end" in given:
        out["booking_end_offset_minutes"] = None
    return out


class BookingMomentOut(BaseModel):
    type: str
    utc: datetime | None = None
    local: str | None = None


class BookingStartsOnOut(BookingMomentOut):
    occurrence_booking_start_offset: int | None = None


class BookingEndsOnOut(BookingMomentOut):
    occurrence_booking_end_offset: int | None = None


def _local(moment: datetime | None, tz: str) -> str | None:
    return None if moment is None else moment.astimezone(ZoneInfo(tz)).isoformat()


def window_out(event: Any) -> dict[str, Any]:
    """``booking_starts_on`` and ``booking_ends_on`` as an event shows them."""
    window = window_of(event)
    start_at = window.opens_on if window.start_type == "ON_DATE" else None
    end_at = window.closes_on if window.end_type == "ON_DATE" else None
    return {
        "booking_starts_on": BookingStartsOnOut(
            type=window.start_type,
            utc=start_at,
            local=_local(start_at, event.timezone),
            occurrence_booking_start_offset=window.opens_before_minutes,
        ),
        "booking_ends_on": BookingEndsOnOut(
            type=window.end_type,
            utc=end_at,
            local=_local(end_at, event.timezone),
            occurrence_booking_end_offset=window.closes_before_minutes,
        ),
    }
