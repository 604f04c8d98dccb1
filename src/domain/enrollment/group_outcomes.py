"""Applying a group's enroll jobs set-wise, in the caller's transaction: the
outcome (status, result, errors) of each job."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from rollcall.domain.access.scopes import resolve_scope
from rollcall.domain.enrollment.bulk.rows import enroll_rows
from rollcall.domain.enrollment.group_line import QueuedJob
from rollcall.domain.errors import DomainError
from rollcall.domain.events.content import content_of
from rollcall.models import Event

#: (status, result, errors) of one job.
Outcome = tuple[str, dict[str, Any] | None, list[dict[str, Any]]]


def failed_outcome(error: DomainError) -> Outcome:
    return "failed", None, error.job_errors()


def _scope_of(job: QueuedJob) -> tuple[str | None, str | None]:
    return job.payload.get("occurrence_id"), job.payload.get("session_id")


def enroll_jobs(
    session: Session, event: Event, jobs: Sequence[QueuedJob], moment: datetime
) -> dict[uuid.UUID, Outcome]:
    """Apply enroll jobs of one event (one attendee each, in acceptance order)
    in the caller's transaction; the outcome of each.

    Consecutive jobs of one scope are applied set-wise; the runs follow each
    other in order, since scopes can share seats (a session seat is also an
    event seat) and a later request must not take one first."""
    outcomes: dict[uuid.UUID, Outcome] = {}
    content = content_of(event)
    for (occurrence_id, session_id), run in itertools.groupby(jobs, key=_scope_of):
        members = list(run)
        try:
            scope = resolve_scope(
                session, event=event, occurrence_id=occurrence_id, session_id=session_id
            )
        except DomainError as error:
            outcomes.update({job.id: failed_outcome(error) for job in members})
            continue
        rows = [_row(number, job, seq) for number, (job, seq) in enumerate(_seqs(members), 1)]
        outcome = enroll_rows(
            session,
            event=event,
            scope=scope,
            rows=rows,
            failed={},
            now=moment,
            requested_at=moment,
            job_id=members[0].id,
        )
        for number, job in enumerate(members, start=1):
            placed = outcome.placed.get(number)
            if placed is None:
                outcomes[job.id] = failed_outcome(outcome.refused[number])
                continue
            outcomes[job.id] = (
                "succeeded",
                {
                    "enrollment_id": str(placed.enrollment_id),
                    "event_id": str(event.id),
                    "scope": scope.key,
                    "attendee_ref": placed.attendee_ref,
                    "status": placed.status,
                    "waitlist_position": placed.waitlist_position,
                    "content": content,
                },
                [],
            )
    return outcomes


def _seqs(members: Sequence[QueuedJob]) -> list[tuple[QueuedJob, int]]:
    """Each job with its ``request_seq``: jobs stamped in the same microsecond
    keep on the waiting list the order they were seated in (created_at, id)."""
    paired: list[tuple[QueuedJob, int]] = []
    for _stamp, same in itertools.groupby(members, key=lambda job: job.created_at):
        paired.extend((job, seq) for seq, job in enumerate(same))
    return paired


def _row(number: int, job: QueuedJob, seq: int) -> dict[str, Any]:
    person = job.payload["attendee"]
    return {
        "row": number,
        "ref": person["ref"],
        "email": person["email"],
        "name": person.get("name") or "",
        "timezone": person.get("timezone"),
        "locale": person.get("locale"),
        "job_id": job.id,
        "requested_at": job.created_at,
        "request_seq": seq,
    }
