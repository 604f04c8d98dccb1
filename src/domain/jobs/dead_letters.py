"""What a dead-lettered message means for the row it was about, and its requeue.

A ``process_job`` message that exhausted its retries leaves the job ``running``
forever unless someone says otherwise: it is marked ``failed`` with the code
JOB_DEAD_LETTERED so operators find it. Requeueing reopens it, and only it:
jobs that failed with a domain error stay failed (``apply_job`` skips them).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from rollcall.domain.jobs import actor_names
from rollcall.domain.webhooks.causes import record_job
from rollcall.models import EmailMessage, Job
from rollcall.models.jobs import FINAL_JOB_STATUSES
from rollcall.models.mail import FINAL_STATES

DEAD_LETTERED = "JOB_DEAD_LETTERED"


def _uuid(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def mark_dead_lettered(
    session: Session, *, actor: str, args: list[object], error: str, now: datetime
) -> bool:
    """Record that the message for this job or mail gave up; True if a row changed."""
    row_id = _uuid(args[0]) if args else None
    if row_id is None:
        return False
    if actor == actor_names.PROCESS_JOB:
        job = session.get(Job, row_id, with_for_update=True)
        if job is None or job.status in FINAL_JOB_STATUSES:
            return False
        job.status = "failed"
        job.errors = [
            {
                "code": DEAD_LETTERED,
                "message": "The worker gave up after its retries; requeue it from /ops.",
                "details": {"error": error[-500:]},
            }
        ]
        job.finished_at = now
        record_job(session, job, now=now)
        return True
    if actor == actor_names.SEND_EMAIL:
        mail = session.get(EmailMessage, row_id, with_for_update=True)
        if mail is None or mail.state in FINAL_STATES:
            return False
        mail.state = "failed"
        mail.last_error = error[-500:]
        return True
    return False


def reopen_for_requeue(session: Session, *, actor: str, args: list[object]) -> None:
    """Make a dead-lettered job or mail eligible to run again."""
    row_id = _uuid(args[0]) if args else None
    if row_id is None:
        return
    if actor == actor_names.PROCESS_JOB:
        job = session.get(Job, row_id, with_for_update=True)
        if job is not None and any(e.get("code") == DEAD_LETTERED for e in job.errors or []):
            job.status = "queued"
            job.errors = []
            job.finished_at = None
    elif actor == actor_names.SEND_EMAIL:
        mail = session.get(EmailMessage, row_id, with_for_update=True)
        if mail is not None and mail.state == "failed":
            mail.state = "queued"
