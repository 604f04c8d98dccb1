"""Bodies of the attendee resource (issue 15 #8)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, EmailStr, Field, model_validator

from rollcall.intake.fields import LocaleTag, PersonName, Ref, TimeZoneName
from rollcall.intake.schemas import Strict
from rollcall.models import Attendee


class AttendeeCreate(Strict):
    ref: Ref = Field(description="The upstream system's id, unique in your organisation")
    email: EmailStr
    name: PersonName = ""
    timezone: TimeZoneName | None = Field(default=None, description="An IANA time zone")
    locale: LocaleTag | None = Field(default=None, description="A BCP 47 tag: nl, nl-BE, de")


class AttendeePatch(Strict):
    """Only the fields sent change; ``name``, ``timezone`` and ``locale`` are
    cleared with null, ``email`` never (it is required)."""

    email: EmailStr | None = None
    name: PersonName | None = None
    timezone: TimeZoneName | None = None
    locale: LocaleTag | None = None

    @model_validator(mode="after")
    def _email_not_cleared(self) -> AttendeePatch:
        if "email" in self.model_fields_set and self.email is None:
            raise ValueError("email cannot be cleared")
        return self


class AttendeeOut(BaseModel):
    id: uuid.UUID
    ref: str
    email: str
    name: str
    timezone: str | None
    locale: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, attendee: Attendee) -> AttendeeOut:
        return cls.model_validate(attendee, from_attributes=True)


class AttendeePage(BaseModel):
    items: list[AttendeeOut]
    next_cursor: str | None


class AttendeeExport(BaseModel):
    """Everything Rollcall holds about the person (domain.people.export)."""

    attendee: dict[str, Any]
    enrollments: list[dict[str, Any]]
    payments: list[dict[str, Any]]
    trainer_of: list[dict[str, Any]]
    bookmarks: list[dict[str, Any]]
    tokens: list[dict[str, Any]]
    mails: list[dict[str, Any]]


class ErasedOut(BaseModel):
    ref: str
    erased: bool = True
    erased_at: datetime
    #: True when this ref had been erased before (nothing was done again).
    already_erased: bool
    enrollments_ended: int
    promoted: list[str]
    mails_dropped: int
    tokens_revoked: int
