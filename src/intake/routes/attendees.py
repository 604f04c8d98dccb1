"""Attendees as a resource: create, read, change, list, export, erase; and an
attendee's enrollments with orphan payments."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from rollcall.domain.clock import utcnow
from rollcall.domain.enrollment.queries import attendee_enrollments
from rollcall.domain.jobs.outbox import take_written
from rollcall.domain.people.directory import (
    create_attendee,
    get_attendee,
    list_attendees,
    update_attendee,
)
from rollcall.domain.people.erasure import erase_attendee
from rollcall.domain.people.export import export_attendee
from rollcall.intake.attendee_schemas import (
    AttendeeCreate,
    AttendeeExport,
    AttendeeOut,
    AttendeePage,
    AttendeePatch,
    ErasedOut,
)
from rollcall.intake.deps import AppSettings, Caller, DbSession, EnrollmentReader, require
from rollcall.intake.enrollment_schemas import AttendeeEnrollments, EnrollmentOut, OrphanPayments
from rollcall.intake.fields import CursorText, Ref
from rollcall.intake.jobs_submit import enqueue_committed
from rollcall.intake.json_body import BoundedJsonRoute

router = APIRouter(prefix="/v1/attendees", tags=["attendees"], route_class=BoundedJsonRoute)

Student = Annotated[Caller, Depends(require("students:write"))]


@router.post("", status_code=201, response_model=AttendeeOut, summary="Create an attendee")
def post_attendee(
    body: AttendeeCreate, caller: Student, session: DbSession, response: Response
) -> AttendeeOut:
    """No enrollment needed: a trainer, for one, is added by ref afterwards."""
    with session.begin():
        attendee = create_attendee(
            session, organisation_id=caller.organisation_id, fields=body.model_dump(), now=utcnow()
        )
        out = AttendeeOut.of(attendee)
    # By id: a ref may hold any character, and a header only Latin-1.
    response.headers["Location"] = f"/v1/attendees/{out.id}"
    return out


@router.get("", response_model=AttendeePage, summary="List attendees, oldest first (cursor)")
def get_attendees(
    caller: EnrollmentReader,
    session: DbSession,
    after: Annotated[CursorText | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> AttendeePage:
    items, next_cursor = list_attendees(
        session, organisation_id=caller.organisation_id, after=after, limit=limit
    )
    return AttendeePage(items=[AttendeeOut.of(a) for a in items], next_cursor=next_cursor)


@router.get("/{attendee_ref}", response_model=AttendeeOut, summary="Read an attendee")
def read_attendee(attendee_ref: Ref, caller: EnrollmentReader, session: DbSession) -> AttendeeOut:
    return AttendeeOut.of(
        get_attendee(session, organisation_id=caller.organisation_id, id_or_ref=attendee_ref)
    )


@router.patch("/{attendee_ref}", response_model=AttendeeOut, summary="Change an attendee")
def patch_attendee(
    attendee_ref: Ref, body: AttendeePatch, caller: Student, session: DbSession
) -> AttendeeOut:
    with session.begin():
        attendee = get_attendee(
            session, organisation_id=caller.organisation_id, id_or_ref=attendee_ref
        )
        update_attendee(
            session, attendee=attendee, changes=body.model_dump(exclude_unset=True), now=utcnow()
        )
        return AttendeeOut.of(attendee)


@router.get(
    "/{attendee_ref}/export",
    response_model=AttendeeExport,
    summary="Everything Rollcall holds about the person, as JSON",
)
def get_export(attendee_ref: Ref, caller: Student, session: DbSession) -> AttendeeExport:
    attendee = get_attendee(session, organisation_id=caller.organisation_id, id_or_ref=attendee_ref)
    return AttendeeExport.model_validate(export_attendee(session, attendee=attendee))


@router.post(
    "/{attendee_ref}/erase",
    response_model=ErasedOut,
    summary="Erase the person (idempotent): anonymised, seats freed, mails dropped, tokens revoked",
)
def post_erase(
    attendee_ref: Ref, caller: Student, session: DbSession, settings: AppSettings
) -> ErasedOut:
    with session.begin():
        erased = erase_attendee(
            session, organisation_id=caller.organisation_id, ref=attendee_ref, now=utcnow()
        )
        written = take_written(session)
    # The promoted attendees' mails leave after commit (the outbox relay
    # sends them if the broker is down).
    enqueue_committed(settings, written)
    return ErasedOut(
        ref=erased.ref,
        erased_at=erased.erased_at,
        already_erased=erased.already,
        enrollments_ended=erased.enrollments_ended,
        promoted=erased.promoted,
        mails_dropped=erased.mails_dropped,
        tokens_revoked=erased.tokens_revoked,
    )


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
