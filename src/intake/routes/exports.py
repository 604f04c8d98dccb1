"""CSV exports, streamed: an event's roster, a job's row errors."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from rollcall.config.settings import Settings
from rollcall.domain.events.catalog import get_event
from rollcall.domain.exports.csv_cells import csv_chunks
from rollcall.domain.exports.job_errors import JOB_ERRORS_HEADER, iter_job_errors
from rollcall.domain.exports.roster import ROSTER_HEADER, iter_roster
from rollcall.domain.jobs.engine import read_job
from rollcall.intake.deps import AnyCredential, AppSettings, Caller, DbSession, EnrollmentReader
from rollcall.intake.fields import Ref
from rollcall.models.db import sessions_of

router = APIRouter(tags=["exports"])
CSV = "text/csv; charset=utf-8"
_CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {CSV: {}}, "description": "CSV, header row first"}
}


def _download(chunks: Iterator[str], filename: str) -> StreamingResponse:
    return StreamingResponse(
        chunks,
        media_type=CSV,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


def _roster_chunks(
    settings: Settings, organisation_id: uuid.UUID, event_id: uuid.UUID
) -> Iterator[str]:
    # Its own session, open for as long as the response streams (the request's
    # session ends with the route).
    with sessions_of(settings)() as session:
        rows = iter_roster(session, organisation_id=organisation_id, event_id=event_id)
        yield from csv_chunks(ROSTER_HEADER, rows)


@router.get(
    "/v1/events/{event_id}/enrollments.csv",
    response_class=StreamingResponse,
    responses=_CSV_RESPONSE,
    summary="Export the event's enrollments as CSV (streamed; every status, arrival order)",
)
def get_roster_csv(
    event_id: Ref, caller: EnrollmentReader, session: DbSession, settings: AppSettings
) -> StreamingResponse:
    event = get_event(session, organisation_id=caller.organisation_id, id_or_ref=event_id)
    found = event.id
    session.rollback()
    chunks = _roster_chunks(settings, caller.organisation_id, found)
    return _download(chunks, f"enrollments-{found}.csv")


@router.get(
    "/v1/jobs/{job_id}/errors.csv",
    response_class=StreamingResponse,
    responses=_CSV_RESPONSE,
    summary="Export a job's errors as CSV: one line per failing row of a bulk job",
)
def get_job_errors_csv(job_id: Ref, caller: AnyCredential, session: DbSession) -> StreamingResponse:
    if isinstance(caller, Caller):
        job = read_job(
            session,
            organisation_id=caller.organisation_id,
            job_id=job_id,
            scopes=caller.scopes,
            key_id=caller.api_key_id,
        )
    else:
        job = read_job(
            session, organisation_id=caller.organisation_id, job_id=job_id, token_id=caller.token_id
        )
    rows = list(iter_job_errors(job))  # bounded: a bulk job has at most 10,000 rows
    session.rollback()
    return _download(csv_chunks(JOB_ERRORS_HEADER, rows), f"job-{job.id}-errors.csv")
