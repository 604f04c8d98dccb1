"""Enrollment jobs as every way in submits them (REST routes, GraphQL mutations).

Each function resolves the event inside the caller's organisation (another
organisation's event is EventNotFound), builds the job's payload and accepts
the job (``jobs_submit.submit_and_enqueue``: recorded with its outbox row,
committed, enqueued). The caller has begun the session's transaction.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from rollcall.config.settings import Settings
from rollcall.domain.access.scopes import check_scope_names
from rollcall.domain.enrollment.bulk.run import BULK_ENROLL, MAX_ROWS
from rollcall.domain.enrollment.jobs import ENROLL, REMOVE
from rollcall.domain.errors import DomainError
from rollcall.domain.errors.enrollment import BulkTooLarge
from rollcall.domain.events.catalog import get_event_id
from rollcall.domain.jobs import one_statement
from rollcall.domain.jobs.one_statement import NotAnEventOfTheOrganisation
from rollcall.domain.lookup import as_row_id
from rollcall.intake.deps import Credential
from rollcall.intake.enrollment_schemas import BulkEnrollmentRequest, split_rows
from rollcall.intake.jobs_submit import submit_and_enqueue
from rollcall.models import Job


def scope_payload(occurrence_id: uuid.UUID | None, session_id: uuid.UUID | None) -> dict[str, str]:
    """The payload's occurrence or session (InvalidScope for both at once)."""
    check_scope_names(occurrence_id, session_id)
    scope: dict[str, str] = {}
    if occurrence_id is not None:
        scope["occurrence_id"] = str(occurrence_id)
    if session_id is not None:
        scope["session_id"] = str(session_id)
    return scope


def submit_enroll(
    session: Session,
    settings: Settings,
    *,
    by: Credential,
    event: str,
    attendee: dict[str, Any],
    occurrence_id: uuid.UUID | None,
    session_id: uuid.UUID | None,
    idempotency_key: str | None,
) -> Job:
    """An enroll job for ``attendee`` (validated as ``EnrollingAttendee``) on
    the event with this id or ref.

    On PostgreSQL an event named by a UUID is not looked up first: the job's
    statement checks it is the organisation's (one_statement's guard), one
    round trip less on every enroll. Only if it is not (a ref spelled as a
    UUID, another organisation's event, none) is it looked up by the usual
    rule, which answers as it always did."""

    def submit(event_id: uuid.UUID, *, guarded: bool) -> Job:
        return _one_attendee_job(
            session,
            settings,
            by=by,
            type=ENROLL,
            event_id=event_id,
            fields={"attendee": attendee},
            scope=(occurrence_id, session_id),
            idempotency_key=idempotency_key,
            guarded=guarded,
        )

    named = _named_by_id(session, event, occurrence_id, session_id)
    if named is not None:
        try:
            return submit(named, guarded=True)
        except NotAnEventOfTheOrganisation:
            pass  # nothing was written: looked up below
    return submit(
        get_event_id(session, organisation_id=by.organisation_id, id_or_ref=event), guarded=False
    )


def _named_by_id(
    session: Session, event: str, occurrence_id: uuid.UUID | None, session_id: uuid.UUID | None
) -> uuid.UUID | None:
    """The UUID ``event`` spells, where the job's statement may check it
    (PostgreSQL) and no refusal of the request must come before the event's
    (a bad scope is refused after an unknown event, as without the guard)."""
    if not one_statement.available(session):
        return None
    try:
        check_scope_names(occurrence_id, session_id)
    except DomainError:
        return None
    return as_row_id(event)


def submit_bulk_enroll(
    session: Session,
    settings: Settings,
    *,
    by: Credential,
    event: str,
    body: BulkEnrollmentRequest,
    unreadable: dict[int, str] | None,
    idempotency_key: str | None,
) -> Job:
    """A bulk enroll job: every row checked on its own (a bad row is a row
    error of the job); BulkTooLarge over MAX_ROWS rows."""
    if len(body.attendees) > MAX_ROWS:
        raise BulkTooLarge(rows=len(body.attendees), max_rows=MAX_ROWS)
    valid, invalid = split_rows(body.attendees, unreadable=unreadable)
    event_id = get_event_id(session, organisation_id=by.organisation_id, id_or_ref=event)
    return submit_and_enqueue(
        session,
        settings,
        by=by,
        organisation_id=by.organisation_id,
        type=BULK_ENROLL,
        payload={
            "event_id": str(event_id),
            "atomic": body.atomic,
            "rows": valid,
            "invalid": invalid,
            **scope_payload(body.occurrence_id, body.session_id),
        },
        idempotency_key=idempotency_key,
        event_id=event_id,
        progress_total=len(body.attendees),
    )


def submit_remove(
    session: Session,
    settings: Settings,
    *,
    by: Credential,
    event: str,
    attendee_ref: str,
    occurrence_id: uuid.UUID | None,
    session_id: uuid.UUID | None,
    idempotency_key: str | None,
) -> Job:
    """A job removing the attendee with this ref from the event (organiser action)."""
    return _one_attendee_job(
        session,
        settings,
        by=by,
        type=REMOVE,
        event_id=get_event_id(session, organisation_id=by.organisation_id, id_or_ref=event),
        fields={"attendee_ref": attendee_ref},
        scope=(occurrence_id, session_id),
        idempotency_key=idempotency_key,
    )


def _one_attendee_job(
    session: Session,
    settings: Settings,
    *,
    by: Credential,
    type: str,
    event_id: uuid.UUID,
    fields: dict[str, Any],
    scope: tuple[uuid.UUID | None, uuid.UUID | None],
    idempotency_key: str | None,
    guarded: bool = False,
) -> Job:
    """A job of one attendee on the event (enroll, remove): its payload the
    event's id, ``fields`` and the occurrence or session, its progress of 1."""
    return submit_and_enqueue(
        session,
        settings,
        by=by,
        organisation_id=by.organisation_id,
        type=type,
        payload={"event_id": str(event_id), **fields, **scope_payload(*scope)},
        idempotency_key=idempotency_key,
        event_id=event_id,
        progress_total=1,
        guarded=guarded,
    )
