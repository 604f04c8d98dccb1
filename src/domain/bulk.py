"""Bulk enrollment: up to 10,000 attendees in one job, set-based.

Rows are applied in chunks with a handful of statements each (attendees
looked up and inserted in bulk, the seats granted at once under the counter
rows' locks, enrollments, payments, mails and outbox rows inserted in bulk).

* ``atomic``: one transaction for every chunk; any failing row raises
  BulkRowsFailed and everything rolls back, mails included (they are rows in
  the same transaction). Progress is written from a second connection on
  PostgreSQL; SQLite serialises writers, so there it shows at the end only.
* not atomic: one transaction per chunk that also records the chunk's
  outcome on the job (progress, counts, row errors) under the job row's lock.
  A worker that dies mid-way leaves the committed chunks recorded; the
  redelivered message resumes at ``progress_done``: exactly once per row.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, func, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from domain import capacity
from domain.enrollment import enrollment_refusal
from domain.errors import (
    AlreadyEnrolled,
    BulkRowsFailed,
    DomainError,
    DuplicateRow,
    EventFull,
    EventNotFound,
    MaxEnrollmentsReached,
)
from domain.mail import SEND_EMAIL_ACTOR, event_context
from domain.outbox import PENDING_KEY, take_pending
from domain.scopes import Scope, resolve_scope
from domain.seating import may_enroll_more, seats_grantable
from models import (
    Attendee,
    EmailMessage,
    Enrollment,
    Event,
    Job,
    Occurrence,
    OutboxMessage,
    Payment,
)
from models.bulk_insert import insert_rows
from models.enrollment import ACTIVE_STATUSES
from models.jobs import FINAL_JOB_STATUSES

BULK_ENROLL = "bulk_enroll"
MAX_ROWS = 10_000
CHUNK_ROWS = 1_000
_IN_BATCH = 1_000

AfterCommit = Callable[[list[uuid.UUID]], object]


def row_error(row: dict[str, Any], error: DomainError) -> dict[str, Any]:
    """The per-row error shape: ``{row, attendee_ref, code, message}``."""
    return {
        "row": row["row"],
        "attendee_ref": row.get("ref"),
        "code": error.code,
        "message": error.message,
    }


def mark_duplicates(rows: Sequence[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """Pure: later rows repeating an earlier attendee ref fail with DUPLICATE_ROW.
    Returns {row number: error}."""
    seen: set[str] = set()
    failed: dict[int, dict[str, Any]] = {}
    for row in rows:
        if row["ref"] in seen:
            failed[row["row"]] = row_error(row, DuplicateRow())
        seen.add(row["ref"])
    return failed


@dataclass
class ChunkOutcome:
    enrolled: int = 0
    waitlisted: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)


def _batches(values: Sequence[Any], size: int = _IN_BATCH) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _upsert_attendees(
    session: Session, *, organisation_id: uuid.UUID, rows: Sequence[dict[str, Any]], now: datetime
) -> dict[str, uuid.UUID]:
    """Attendee id per ref: existing ones brought up to date, missing ones inserted.

    Reads plain tuples, not ORM objects: at 10,000 rows the identity map costs
    more than the queries.
    """
    fields = ("email", "name", "timezone", "locale")
    refs = [row["ref"] for row in rows]
    found: dict[str, tuple[Any, ...]] = {}
    for batch in _batches(refs):
        for found_row in session.execute(
            select(
                Attendee.ref,
                Attendee.id,
                Attendee.email,
                Attendee.name,
                Attendee.timezone,
                Attendee.locale,
            ).where(Attendee.organisation_id == organisation_id, Attendee.ref.in_(batch))
        ):
            found[found_row[0]] = tuple(found_row[1:])
    fresh: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    ids: dict[str, uuid.UUID] = {}
    for row in rows:
        existing = found.get(row["ref"])
        if existing is None:
            new = {
                "id": uuid.uuid4(),
                "organisation_id": organisation_id,
                "ref": row["ref"],
                "email": row["email"],
                "name": row.get("name") or "",
                "timezone": row.get("timezone"),
                "locale": row.get("locale"),
                "created_at": now,
                "updated_at": now,
            }
            fresh.append(new)
            ids[row["ref"]] = new["id"]
            continue
        ids[row["ref"]] = existing[0]
        current = dict(zip(fields, existing[1:], strict=True))
        wanted = {name: row.get(name) or current[name] for name in fields}
        if wanted != current:
            changed.append({"attendee_id": existing[0], **wanted, "now": now})
    insert_rows(session, Attendee, fresh)
    if changed:
        session.execute(
            update(Attendee)
            .where(Attendee.id == bindparam("attendee_id"))
            .values(
                email=bindparam("email"),
                name=bindparam("name"),
                timezone=bindparam("timezone"),
                locale=bindparam("locale"),
                updated_at=bindparam("now"),
            )
            .execution_options(synchronize_session=False),
            changed,
        )
    return ids


def _active_by_attendee(
    session: Session, *, event: Event, scope: Scope, attendee_ids: Sequence[uuid.UUID]
) -> tuple[set[uuid.UUID], dict[uuid.UUID, int]]:
    """(attendees active in this scope, active enrollments per attendee in the event)."""
    in_scope: set[uuid.UUID] = set()
    per_event: dict[uuid.UUID, int] = {}
    for batch in _batches(list(attendee_ids)):
        for attendee_id, scope_key in session.execute(
            select(Enrollment.attendee_id, Enrollment.scope_key).where(
                Enrollment.event_id == event.id,
                Enrollment.attendee_id.in_(batch),
                Enrollment.status.in_(ACTIVE_STATUSES),
            )
        ):
            per_event[attendee_id] = per_event.get(attendee_id, 0) + 1
            if scope_key == scope.key:
                in_scope.add(attendee_id)
    return in_scope, per_event


def enroll_rows(
    session: Session,
    *,
    event: Event,
    scope: Scope,
    rows: Sequence[dict[str, Any]],
    failed: dict[int, dict[str, Any]],
    now: datetime,
    requested_at: datetime,
    job_id: uuid.UUID,
) -> ChunkOutcome:
    """Apply one chunk of rows in the caller's transaction.

    ``failed`` holds rows already refused (invalid input, duplicates); their
    errors are reported in row order with the rest. Rows that pass are
    enrolled while seats last at every level, then waitlisted (or refused
    with EVENT_FULL without a waiting list).
    """
    outcome = ChunkOutcome()
    refusal = enrollment_refusal(event, now=now)
    candidates = [row for row in rows if row["row"] not in failed]
    errors: dict[int, dict[str, Any]] = {
        row["row"]: failed[row["row"]] for row in rows if row["row"] in failed
    }
    if refusal is not None:
        errors.update({row["row"]: row_error(row, refusal) for row in candidates})
        candidates = []
    ids = _upsert_attendees(
        session, organisation_id=event.organisation_id, rows=candidates, now=now
    )
    if event.max_per_attendee is not None and ids:
        # Lock the attendees, as single enrollment does, before counting.
        for batch in _batches(sorted(ids.values())):
            session.execute(select(Attendee.id).where(Attendee.id.in_(batch)).with_for_update())
    in_scope, per_event = _active_by_attendee(
        session, event=event, scope=scope, attendee_ids=list(ids.values())
    )
    eligible: list[dict[str, Any]] = []
    for row in candidates:
        attendee_id = ids[row["ref"]]
        if attendee_id in in_scope:
            errors[row["row"]] = row_error(row, AlreadyEnrolled())
        elif not may_enroll_more(event.max_per_attendee, per_event.get(attendee_id, 0)):
            errors[row["row"]] = row_error(row, MaxEnrollmentsReached())
        else:
            eligible.append(row)
    levels = capacity.lock_levels(session, scope.rows)
    granted = seats_grantable(levels, len(eligible))
    seated, rest = eligible[:granted], eligible[granted:]
    if rest and not event.waiting_list:
        full = EventFull(max_subscriptions=event.max_subscriptions)
        errors.update({row["row"]: row_error(row, full) for row in rest})
        rest = []
    capacity.add_seats(session, scope.rows, len(seated))
    waiting_before = 0
    if rest:
        waiting_before = int(
            session.scalar(
                select(func.count())
                .select_from(Enrollment)
                .where(
                    Enrollment.event_id == event.id,
                    Enrollment.scope_key == scope.key,
                    Enrollment.status == "waitlisted",
                )
            )
            or 0
        )
        capacity.add_waitlisted_at(session, scope.rows[0], len(rest))
    _insert_enrollments(
        session,
        event=event,
        scope=scope,
        seated=seated,
        waiting=rest,
        waiting_before=waiting_before,
        attendee_ids=ids,
        now=now,
        requested_at=requested_at,
        job_id=job_id,
    )
    outcome.enrolled, outcome.waitlisted = len(seated), len(rest)
    outcome.errors = [errors[number] for number in sorted(errors)]
    return outcome


def _insert_enrollments(
    session: Session,
    *,
    event: Event,
    scope: Scope,
    seated: Sequence[dict[str, Any]],
    waiting: Sequence[dict[str, Any]],
    waiting_before: int,
    attendee_ids: dict[str, uuid.UUID],
    now: datetime,
    requested_at: datetime,
    job_id: uuid.UUID,
) -> None:
    enrollments: list[dict[str, Any]] = []
    payments: list[dict[str, Any]] = []
    mails: list[dict[str, Any]] = []
    outbox: list[dict[str, Any]] = []
    shown = event_context(event)
    if scope.occurrence_id is not None:
        occurrence = session.get(Occurrence, scope.occurrence_id)
        if occurrence is not None:
            shown |= {
                "starts_at": occurrence.starts_at.isoformat(),
                "ends_at": occurrence.ends_at.isoformat(),
            }
    numbered = [(row, "enrolled", None) for row in seated] + [
        (row, "waitlisted", waiting_before + i + 1) for i, row in enumerate(waiting)
    ]
    for row, status, position in numbered:
        enrollment_id, mail_id = uuid.uuid4(), uuid.uuid4()
        attendee_id = attendee_ids[row["ref"]]
        enrollments.append(
            {
                "id": enrollment_id,
                "organisation_id": event.organisation_id,
                "event_id": event.id,
                "occurrence_id": scope.occurrence_id,
                "session_id": scope.session_id,
                "attendee_id": attendee_id,
                "scope_key": scope.key,
                "status": status,
                "requested_at": requested_at,
                "request_seq": row["row"],
                "enrolled_at": now if status == "enrolled" else None,
                "job_id": job_id,
                "created_at": now,
                "updated_at": now,
            }
        )
        if status == "enrolled":
            payments.append(
                {
                    "id": uuid.uuid4(),
                    "organisation_id": event.organisation_id,
                    "event_id": event.id,
                    "attendee_id": attendee_id,
                    "enrollment_id": enrollment_id,
                    "state": "manual_enrolled",
                    "amount": Decimal("0"),
                    "created_at": now,
                }
            )
        info: dict[str, Any] = {"id": str(enrollment_id), "status": status}
        if position is not None:
            info["waitlist_position"] = position
        person = {"ref": row["ref"], "name": row.get("name") or "", "email": row["email"]}
        mails.append(
            {
                "id": mail_id,
                "organisation_id": event.organisation_id,
                "job_id": job_id,
                "template": "enrollment_confirmed"
                if status == "enrolled"
                else "enrollment_waitlisted",
                "to_address": row["email"],
                "to_name": row.get("name") or "",
                "context": {
                    "event": shown,
                    "attendee": attendee_context_of(person),
                    "enrollment": info,
                },
                "state": "queued",
                "attempts": 0,
                "created_at": now,
            }
        )
        outbox.append(
            {
                "id": uuid.uuid4(),
                "actor": SEND_EMAIL_ACTOR,
                "args": [str(mail_id)],
                "created_at": now,
                "attempts": 0,
            }
        )
    if not enrollments:
        return
    insert_rows(session, Enrollment, enrollments)
    insert_rows(session, Payment, payments)
    insert_rows(session, EmailMessage, mails)
    insert_rows(session, OutboxMessage, outbox)
    session.info.setdefault(PENDING_KEY, []).extend(row["id"] for row in outbox)


def attendee_context_of(person: dict[str, str]) -> dict[str, Any]:
    """The attendee part of a mail context from a bulk row (the shape of
    domain.mail.attendee_context)."""
    return {"ref": person["ref"], "name": person["name"], "email": person["email"]}


# Running the job ----------------------------------------------------------------


def _load(session: Session, job: Job) -> tuple[Event, Scope]:
    payload = job.payload
    event = session.get(Event, uuid.UUID(payload["event_id"]), populate_existing=True)
    if event is None:
        raise EventNotFound(id=payload["event_id"])
    scope = resolve_scope(
        session,
        event=event,
        occurrence_id=payload.get("occurrence_id"),
        session_id=payload.get("session_id"),
    )
    return event, scope


def _pre_failed(payload: dict[str, Any]) -> dict[int, dict[str, Any]]:
    failed = {error["row"]: error for error in payload.get("invalid", [])}
    failed.update(mark_duplicates(payload["rows"]))
    return failed


def _all_rows(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """Valid and invalid rows in row order (invalid ones carry no attendee)."""
    rows = list(payload["rows"]) + [
        {"row": error["row"], "ref": error.get("attendee_ref")}
        for error in payload.get("invalid", [])
    ]
    return sorted(rows, key=lambda row: int(row["row"]))


def _final_status(done_ok: int, errors: int) -> str:
    if errors == 0:
        return "succeeded"
    return "partially_succeeded" if done_ok else "failed"


def _advisory_lock(session: Session, job_id: uuid.UUID) -> None:
    """PostgreSQL: one applier per job (SQLite's BEGIN IMMEDIATE already is)."""
    if session.get_bind().dialect.name == "postgresql":
        key = int.from_bytes(job_id.bytes[:8], "big", signed=True)
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def _report_progress(factory: sessionmaker[Session], job_id: uuid.UUID, done: int) -> None:
    with factory() as session, session.begin():
        if session.get_bind().dialect.name != "postgresql":
            return
        session.execute(
            update(Job).where(Job.id == job_id, Job.status == "running").values(progress_done=done)
        )


def run_atomic(
    factory: sessionmaker[Session], job_id: uuid.UUID, *, now: Callable[[], datetime]
) -> list[uuid.UUID]:
    """All rows or none; returns the outbox ids to dispatch after commit."""
    try:
        with factory() as session, session.begin():
            _advisory_lock(session, job_id)
            job = session.get(Job, job_id, populate_existing=True)
            if job is None or job.status in FINAL_JOB_STATUSES:
                return []
            event, scope = _load(session, job)
            rows = _all_rows(job.payload)
            failed = _pre_failed(job.payload)
            outcome = ChunkOutcome()
            moment = now()
            for start in range(0, len(rows), CHUNK_ROWS):
                chunk = enroll_rows(
                    session,
                    event=event,
                    scope=scope,
                    rows=rows[start : start + CHUNK_ROWS],
                    failed=failed,
                    now=moment,
                    requested_at=job.created_at,
                    job_id=job.id,
                )
                outcome.enrolled += chunk.enrolled
                outcome.waitlisted += chunk.waitlisted
                outcome.errors.extend(chunk.errors)
                if start + CHUNK_ROWS < len(rows):
                    _report_progress(factory, job_id, start + CHUNK_ROWS)
            if outcome.errors:
                raise BulkRowsFailed(outcome.errors)
            job.status = "succeeded"
            job.progress_done = len(rows)
            job.result = {
                "event_id": str(event.id),
                "atomic": True,
                "enrolled": outcome.enrolled,
                "waitlisted": outcome.waitlisted,
                "failed": 0,
            }
            job.errors = []
            job.finished_at = now()
            return take_pending(session)
    except DomainError as error:
        with factory() as session, session.begin():
            job = session.get(Job, job_id, with_for_update=True, populate_existing=True)
            if job is None or job.status in FINAL_JOB_STATUSES:
                return []
            job.status = "failed"
            job.result = {"atomic": True, "enrolled": 0, "waitlisted": 0}
            job.errors = error.job_errors()
            job.progress_done = 0
            job.finished_at = now()
        return []


def run_chunk(
    factory: sessionmaker[Session], job_id: uuid.UUID, *, now: Callable[[], datetime]
) -> tuple[bool, list[uuid.UUID]]:
    """Apply the next chunk of a non-atomic job and record it on the job, in
    one transaction. Returns (finished, outbox ids to dispatch)."""
    with factory() as session, session.begin():
        job = session.get(Job, job_id, with_for_update=True, populate_existing=True)
        if job is None or job.status in FINAL_JOB_STATUSES:
            return True, []
        rows = _all_rows(job.payload)
        start = job.progress_done
        result = dict(job.result or {"enrolled": 0, "waitlisted": 0, "failed": 0})
        if start < len(rows):
            try:
                event, scope = _load(session, job)
            except DomainError as error:
                job.status = "failed"
                job.errors = error.job_errors()
                job.finished_at = now()
                return True, []
            chunk = enroll_rows(
                session,
                event=event,
                scope=scope,
                rows=rows[start : start + CHUNK_ROWS],
                failed=_pre_failed(job.payload),
                now=now(),
                requested_at=job.created_at,
                job_id=job.id,
            )
            result["event_id"] = str(event.id)
            result["atomic"] = False
            result["enrolled"] += chunk.enrolled
            result["waitlisted"] += chunk.waitlisted
            result["failed"] += len(chunk.errors)
            job.errors = [*job.errors, *chunk.errors]
            job.progress_done = min(start + CHUNK_ROWS, len(rows))
            job.result = result
        finished = job.progress_done >= len(rows)
        if finished:
            job.status = _final_status(result["enrolled"] + result["waitlisted"], result["failed"])
            job.finished_at = now()
        return finished, take_pending(session)


def run_bulk_enroll(
    factory: sessionmaker[Session],
    job_id: uuid.UUID,
    *,
    now: Callable[[], datetime],
    after_commit: AfterCommit | None = None,
) -> list[uuid.UUID]:
    """Apply a bulk enrollment job; returns outbox ids not yet handed to
    ``after_commit`` (which, when given, receives each chunk's at once)."""
    with factory() as session:
        job = session.get(Job, job_id)
        atomic = bool(job.payload.get("atomic", True)) if job else True
    if atomic:
        return run_atomic(factory, job_id, now=now)
    pending: list[uuid.UUID] = []
    while True:
        finished, ids = run_chunk(factory, job_id, now=now)
        if after_commit is not None:
            after_commit(ids)
        else:
            pending.extend(ids)
        if finished:
            return pending
