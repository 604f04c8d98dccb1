"""Job status."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from rollcall.domain.enrollment.queries import current_result
from rollcall.domain.jobs.engine import get_job
from rollcall.intake.deps import Caller, DbSession, require
from rollcall.intake.fields import Ref
from rollcall.intake.schemas import JobOut

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])


@router.get("/{job_id}", response_model=JobOut, summary="Show a job's status, result and errors")
def read_job(
    job_id: Ref,
    caller: Annotated[Caller, Depends(require("jobs:read"))],
    session: DbSession,
) -> JobOut:
    job = get_job(session, organisation_id=caller.organisation_id, job_id=job_id)
    # An enrollment's status and place are read now, not as the job stored them.
    return JobOut.of(job, current_result(session, job))
