"""A job's errors as CSV rows: one per failing row of a bulk job."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence

from rollcall.models import Job

JOB_ERRORS_HEADER = ("row", "attendee_ref", "code", "message", "details")


def iter_job_errors(job: Job) -> Iterator[Sequence[object]]:
    """The job's errors in its order (a bulk job's rows ascending; a job that
    failed as a whole has one error and no row). ``details`` as JSON."""
    for error in job.errors or []:
        details = error.get("details")
        yield (
            error.get("row"),
            error.get("attendee_ref"),
            error.get("code"),
            error.get("message"),
            json.dumps(details, sort_keys=True, default=str) if details else "",
        )
