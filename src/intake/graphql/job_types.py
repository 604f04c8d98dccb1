"""The GraphQL types of jobs and their enrollments (seed 003's payloads).

Built from plain values in the thread that read the rows (``of``); job errors
keep Rollcall's codes as the REST job body has them.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import Enum
from typing import Any

import strawberry

from rollcall.models import Job as JobRow


@strawberry.enum(description="A job's state: QUEUED and RUNNING are not final.")
class JobStatus(Enum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    PARTIALLY_SUCCEEDED = "partially_succeeded"
    FAILED = "failed"


@strawberry.enum
class EnrollmentStatus(Enum):
    ENROLLED = "enrolled"
    WAITLISTED = "waitlisted"
    REMOVED = "removed"
    CANCELLED = "cancelled"


@strawberry.type
class JobProgress:
    done: int
    total: int


@strawberry.type(description="One error of a job; ``row`` and ``attendeeRef`` for bulk rows.")
class JobError:
    code: str
    message: str
    row: int | None = None
    attendee_ref: str | None = None

    @classmethod
    def of(cls, error: dict[str, Any]) -> JobError:
        row = error.get("row")
        ref = error.get("attendee_ref", error.get("ref"))
        return cls(
            code=str(error.get("code", "")),
            message=str(error.get("message", "")),
            row=row if isinstance(row, int) else None,
            attendee_ref=ref if isinstance(ref, str) else None,
        )


@strawberry.type(description="An accepted job (REST: GET /v1/jobs/{id}).")
class Job:
    id: uuid.UUID
    type: str
    status: JobStatus
    progress: JobProgress
    errors: list[JobError]
    attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, job: JobRow) -> Job:
        return cls(
            id=job.id,
            type=job.type,
            status=JobStatus(job.status),
            progress=JobProgress(done=job.progress_done, total=job.progress_total),
            errors=[JobError.of(error) for error in job.errors or []],
            attempts=job.attempts,
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
        )

    @property
    def final(self) -> bool:
        return self.status not in (JobStatus.QUEUED, JobStatus.RUNNING)


@strawberry.type
class Enrollment:
    id: uuid.UUID
    status: EnrollmentStatus
    waitlist_position: int | None
    attendee_ref: str
    event_id: uuid.UUID

    @classmethod
    def of_result(cls, result: dict[str, Any] | None) -> Enrollment | None:
        """The enrollment an enroll job's result names (as it is now)."""
        if not result or "enrollment_id" not in result:
            return None
        return cls(
            id=uuid.UUID(str(result["enrollment_id"])),
            status=EnrollmentStatus(result["status"]),
            waitlist_position=result.get("waitlist_position"),
            attendee_ref=str(result["attendee_ref"]),
            event_id=uuid.UUID(str(result["event_id"])),
        )


@strawberry.type(description="A refusal in an enroll mutation's payload (seed 003).")
class EnrollmentError:
    code: str
    message: str


@strawberry.type(description="A refused row (or the whole request) of a bulk enrollment.")
class BulkEnrollmentError:
    row: int | None
    attendee_ref: str | None
    code: str
    message: str
