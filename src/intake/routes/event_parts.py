"""The parts of an event: occurrences (list, cancel one), sessions, trainers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel

from rollcall.domain.clock import utcnow
from rollcall.domain.events.admin import cancel_occurrence
from rollcall.domain.events.catalog import get_event
from rollcall.domain.events.change_notice import NOTIFY_CHANGE, time_change_payload
from rollcall.domain.events.jobs import NOTIFY_CANCELLATION
from rollcall.domain.events.occurrences import get_occurrence, list_occurrences
from rollcall.domain.events.reschedule import reschedule_occurrence
from rollcall.domain.events.sessions import (
    create_session,
    get_session,
    list_sessions,
    update_session,
)
from rollcall.domain.events.trainers import add_trainers, list_trainers, remove_trainers
from rollcall.domain.jobs.outbox import take_written
from rollcall.domain.pagination import decode_cursor, encode_cursor
from rollcall.intake.deps import AppSettings, DbSession, EventReader
from rollcall.intake.event_schemas import (
    CancelIn,
    OccurrenceOut,
    OccurrencePage,
    RescheduleIn,
    SessionIn,
    SessionOut,
    SessionPatch,
    TrainerOut,
    TrainersIn,
    session_fields,
)
from rollcall.intake.fields import Ref
from rollcall.intake.jobs_submit import accept_job, enqueue_committed, record_job
from rollcall.intake.json_body import BoundedJsonRoute
from rollcall.intake.routes.events import (
    NOTIFICATION_JOB_DOC,
    NOTIFICATION_JOB_HEADER,
    Cursor,
    EventId,
    From,
    Limit,
    To,
    Writer,
    check_range,
)
from rollcall.intake.schemas import JobOut
from rollcall.models import Attendee

router = APIRouter(prefix="/v1/events", tags=["events"], route_class=BoundedJsonRoute)

OccurrenceId = Annotated[Ref, Path(description="The occurrence's id")]
SessionId = Annotated[Ref, Path(description="The session's id")]


@router.get(
    "/{event_id}/occurrences",
    response_model=OccurrencePage,
    summary="List an event's occurrences (UTC and local times, cursor pagination)",
)
def get_occurrences(
    event_id: EventId,
    caller: EventReader,
    session: DbSession,
    start: From = None,
    end: To = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> OccurrencePage:
    check_range(start, end)
    event = get_event(session, organisation_id=caller.organisation_id, id_or_ref=event_id)
    rows = list_occurrences(
        session, event=event, start=start, end=end, after=decode_cursor(cursor), limit=limit + 1
    )
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if more else None
    return OccurrencePage(
        items=[OccurrenceOut.of(row, event.timezone) for row in rows],
        next_cursor=encode_cursor(last.starts_at, last.id) if last else None,
    )


@router.post(
    "/{event_id}/occurrences/{occurrence_id}/cancel",
    status_code=202,
    response_model=JobOut,
    summary="Cancel one occurrence; a job mails its attendees",
)
def post_cancel_occurrence(
    event_id: EventId,
    occurrence_id: OccurrenceId,
    caller: Writer,
    session: DbSession,
    settings: AppSettings,
    response: Response,
    body: CancelIn | None = None,
) -> JobOut:
    session.begin()
    event = get_event(session, organisation_id=caller.organisation_id, id_or_ref=event_id)
    occurrence = get_occurrence(session, event=event, occurrence_id=occurrence_id)
    cancel_occurrence(session, event=event, occurrence=occurrence, now=utcnow())
    return accept_job(
        session,
        settings,
        response,
        by=caller,
        organisation_id=caller.organisation_id,
        type=NOTIFY_CANCELLATION,
        payload={
            "event_id": str(event.id),
            "occurrence_id": str(occurrence.id),
            "reason": (body or CancelIn()).reason,
        },
        idempotency_key=None,
        event_id=event.id,
    )


class RescheduleOut(BaseModel):
    occurrence: OccurrenceOut
    #: False when the date already had these times (nothing changed, nobody mailed).
    changed: bool
    #: Reminder runs recorded for the old time and not yet sending, now cancelled.
    reminders_cancelled: int
    #: The job mailing the change notice (a published event, send_notification true).
    notification_job: JobOut | None


@router.post(
    "/{event_id}/occurrences/{occurrence_id}/reschedule",
    response_model=RescheduleOut,
    summary="Move one date (new start and end); a job mails its attendees and trainers",
    responses=NOTIFICATION_JOB_DOC,
)
def post_reschedule_occurrence(
    event_id: EventId,
    occurrence_id: OccurrenceId,
    body: RescheduleIn,
    caller: Writer,
    session: DbSession,
    settings: AppSettings,
    response: Response,
) -> RescheduleOut:
    job = None
    with session.begin():
        event = get_event(session, organisation_id=caller.organisation_id, id_or_ref=event_id)
        occurrence = get_occurrence(session, event=event, occurrence_id=occurrence_id)
        change = reschedule_occurrence(
            session,
            event=event,
            occurrence=occurrence,
            starts_at=body.starts_at,
            ends_at=body.ends_at,
            now=utcnow(),
        )
        if change is not None and event.status == "published" and body.send_notification:
            job = record_job(
                session,
                organisation_id=caller.organisation_id,
                type=NOTIFY_CHANGE,
                payload=time_change_payload(event, occurrence, change),
                idempotency_key=None,
                by=caller,
                event_id=event.id,
            )
            response.headers[NOTIFICATION_JOB_HEADER] = f"/v1/jobs/{job.id}"
        written = take_written(session)
    enqueue_committed(settings, written)
    return RescheduleOut(
        occurrence=OccurrenceOut.of(occurrence, event.timezone),
        changed=change is not None,
        reminders_cancelled=change["reminders_cancelled"] if change else 0,
        notification_job=JobOut.of(job) if job is not None else None,
    )


@router.get("/{event_id}/sessions", response_model=list[SessionOut], summary="List sessions")
def get_sessions(event_id: EventId, caller: EventReader, session: DbSession) -> list[SessionOut]:
    event = get_event(session, organisation_id=caller.organisation_id, id_or_ref=event_id)
    return [SessionOut.of(item) for item in list_sessions(session, event=event)]


@router.post(
    "/{event_id}/sessions", status_code=201, response_model=SessionOut, summary="Add a session"
)
def post_session(
    event_id: EventId, body: SessionIn, caller: Writer, session: DbSession
) -> SessionOut:
    with session.begin():
        event = get_event(session, organisation_id=caller.organisation_id, id_or_ref=event_id)
        item = create_session(
            session, event=event, fields=session_fields(body, only_set=False), now=utcnow()
        )
    return SessionOut.of(item)


@router.get(
    "/{event_id}/sessions/{session_id}", response_model=SessionOut, summary="Show a session"
)
def read_session(
    event_id: EventId, session_id: SessionId, caller: EventReader, session: DbSession
) -> SessionOut:
    event = get_event(session, organisation_id=caller.organisation_id, id_or_ref=event_id)
    return SessionOut.of(get_session(session, event=event, session_id=session_id))


@router.patch(
    "/{event_id}/sessions/{session_id}", response_model=SessionOut, summary="Change a session"
)
def patch_session(
    event_id: EventId,
    session_id: SessionId,
    body: SessionPatch,
    caller: Writer,
    session: DbSession,
) -> SessionOut:
    with session.begin():
        event = get_event(session, organisation_id=caller.organisation_id, id_or_ref=event_id)
        item = get_session(session, event=event, session_id=session_id)
        update_session(session, event=event, item=item, changes=session_fields(body, only_set=True))
    return SessionOut.of(item)


def _trainers_out(people: list[Attendee]) -> list[TrainerOut]:
    return [TrainerOut(id=p.id, ref=p.ref, name=p.name, email=p.email) for p in people]


@router.get("/{event_id}/trainers", response_model=list[TrainerOut], summary="List trainers")
def get_trainers(event_id: EventId, caller: EventReader, session: DbSession) -> list[TrainerOut]:
    event = get_event(session, organisation_id=caller.organisation_id, id_or_ref=event_id)
    return _trainers_out(list_trainers(session, event=event))


@router.post(
    "/{event_id}/trainers",
    response_model=list[TrainerOut],
    summary="Add trainers by attendee ids or refs",
)
def post_trainers(
    event_id: EventId, body: TrainersIn, caller: Writer, session: DbSession
) -> list[TrainerOut]:
    with session.begin():
        event = get_event(session, organisation_id=caller.organisation_id, id_or_ref=event_id)
        people = add_trainers(session, event=event, ids=body.ids, refs=body.refs)
        out = _trainers_out(people)
    return out


@router.post(
    "/{event_id}/trainers/remove",
    response_model=list[TrainerOut],
    summary="Remove trainers by attendee ids or refs",
)
def post_remove_trainers(
    event_id: EventId, body: TrainersIn, caller: Writer, session: DbSession
) -> list[TrainerOut]:
    with session.begin():
        event = get_event(session, organisation_id=caller.organisation_id, id_or_ref=event_id)
        people = remove_trainers(session, event=event, ids=body.ids, refs=body.refs)
        out = _trainers_out(people)
    return out
