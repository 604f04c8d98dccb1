"""Bodies of the enrollment routes (pydantic 2)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, ValidationError, model_validator

from rollcall.domain.bounds import echo
from rollcall.domain.enrollment.queries import Listed
from rollcall.domain.errors import Invalid, code_for_problem
from rollcall.intake.schemas import AttendeeIn, Strict


class BulkEnrollmentRequest(Strict):
    """JSON bulk enrollment. Each attendee is checked on its own: an invalid
    row becomes a row error of the job, it does not refuse the request."""

    atomic: bool = Field(default=True, description="All rows or none")
    occurrence_id: uuid.UUID | None = None
    session_id: uuid.UUID | None = None
    attendees: list[dict[str, Any]] = Field(min_length=1)


class MoveRequest(Strict):
    """Where the enrollment goes: one occurrence or one session of the same event."""

    occurrence_id: uuid.UUID | None = None
    session_id: uuid.UUID | None = None

    @model_validator(mode="after")
    def _names_a_target(self) -> MoveRequest:
        if self.occurrence_id is None and self.session_id is None:
            raise ValueError("name the target: occurrence_id or session_id")
        return self


def split_rows(
    raw_rows: list[dict[str, Any]], *, unreadable: dict[int, str] | None = None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(valid rows, row errors), rows numbered from 1 in the order given.

    ``unreadable`` names rows that could not be read at all (a CSV row the csv
    module refused), with the reason. A row error repeats what the client sent
    only through ``echo``: it is stored with the job, and a NUL or a lone
    surrogate would make that write fail.
    """
    valid: list[dict[str, Any]] = []
    invalid: list[dict[str, Any]] = []
    for number, raw in enumerate(raw_rows, start=1):
        ref = raw.get("ref")
        shown_ref = echo(ref, 200) if isinstance(ref, str) else None
        if unreadable and number in unreadable:
            invalid.append(_row_error(number, shown_ref, unreadable[number]))
            continue
        cleaned = {k: v for k, v in raw.items() if v is not None and v != ""}
        try:
            person = AttendeeIn.model_validate(cleaned)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first.get("loc", ()))
            message = f"{where}: {first.get('msg', 'invalid')}"
            code = code_for_problem(first.get("type"))
            invalid.append(_row_error(number, shown_ref, message, code))
            continue
        valid.append({"row": number, **person.model_dump()})
    return valid, invalid


def _row_error(
    number: int, ref: str | None, message: str, code: str = Invalid.code
) -> dict[str, Any]:
    return {
        "row": number,
        "attendee_ref": ref,
        "code": code,
        "message": echo(message, 300),
    }


class EnrollmentOut(BaseModel):
    id: uuid.UUID
    event_id: uuid.UUID
    attendee_ref: str
    scope: str
    occurrence_id: uuid.UUID | None
    session_id: uuid.UUID | None
    status: str
    waitlist_position: int | None
    requested_at: datetime
    enrolled_at: datetime | None
    ended_at: datetime | None

    @classmethod
    def of(cls, item: Listed) -> EnrollmentOut:
        e = item.enrollment
        return cls(
            id=e.id,
            event_id=e.event_id,
            attendee_ref=e.attendee.ref,
            scope=e.scope_key,
            occurrence_id=e.occurrence_id,
            session_id=e.session_id,
            status=e.status,
            waitlist_position=item.waitlist_position,
            requested_at=e.requested_at,
            enrolled_at=e.enrolled_at,
            ended_at=e.ended_at,
        )


class EnrollmentPage(BaseModel):
    items: list[EnrollmentOut]
    next_cursor: str | None


class OrphanPayments(BaseModel):
    event_id: uuid.UUID
    count: int


class AttendeeEnrollments(BaseModel):
    attendee_ref: str
    email: str
    name: str
    timezone: str | None
    locale: str | None
    enrollments: list[EnrollmentOut]
    orphan_payments: list[OrphanPayments]
