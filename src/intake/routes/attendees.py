"""An attendee's enrollments and orphan payments."""

from __future__ import annotations

from fastapi import APIRouter

from rollcall.domain.enrollment.queries import attendee_enrollments
from rollcall.intake.deps import DbSession, EnrollmentReader
from rollcall.intake.enrollment_schemas import AttendeeEnrollments, EnrollmentOut, OrphanPayments
from rollcall.intake.fields import Ref

router = APIRouter(prefix="/v1/attendees", tags=["enrollments"])


@router.get(
    "/{attendee_ref}/enrollments",
    response_model=AttendeeEnrollments,
    summary="An attendee's enrollments, with orphan payments per event",
)
def get_attendee_enrollments(
    attendee_ref: Ref, caller: EnrollmentReader, session: DbSession
) -> AttendeeEnrollments:
    attendee, items, orphans = attendee_enrollments(
        session, organisation_id=caller.organisation_id, ref=attendee_ref
    )
    return AttendeeEnrollments(
        attendee_ref=attendee.ref,
        email=attendee.email,
        name=attendee.name,
        timezone=attendee.timezone,
        locale=attendee.locale,
        enrollments=[EnrollmentOut.of(i) for i in items],
        orphan_payments=[
            OrphanPayments(event_id=event_id, count=count) for event_id, count in orphans.items()
        ],
    )
