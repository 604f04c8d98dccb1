"""Job status."""

from __future__ import annotations

from fastapi import APIRouter

from rollcall.domain.enrollment.queries import current_result
from rollcall.domain.jobs.engine import read_job as find_readable_job
from rollcall.intake.deps import AnyCredential, Caller, DbSession
from rollcall.intake.fields import Ref
from rollcall.intake.schemas import JobOut

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])


@router.get("/{job_id}", response_model=JobOut, summary="Show a job's status, result and errors")
def read_job(
    job_id: Ref,
    caller: AnyCredential,
    session: DbSession,
) -> JobOut:
    """``jobs:read`` reads every job of the organisation; any credential reads
    the jobs it created (an API key, or an attendee's end-user token)."""
    if isinstance(caller, Caller):
        job = find_readable_job(
            session,
            organisation_id=caller.organisation_id,
            job_id=job_id,
            scopes=caller.scopes,
            key_id=caller.api_key_id,
        )
    else:
        job = find_readable_job(
            session,
            organisation_id=caller.organisation_id,
            job_id=job_id,
            token_id=caller.token_id,
        )
    # An enrollment's status and place are read now, not as the job stored them.
    return JobOut.of(job, current_result(session, job))
