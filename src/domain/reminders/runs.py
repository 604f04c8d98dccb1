"""Reminder runs: when they are due, recording them once, and who gets a mail.

A run is recorded once per (occurrence, run key) under a unique constraint, so
two schedulers, a restart or a late tick never record a second one. Preparing
a run writes one EmailMessage per recipient with the dedupe key
``reminder:<run id>:<attendee id>`` (unique), so a redelivered run message
never mails anybody twice. Sending is the worker's business (workers.mail_run).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import String, case, cast, exists, func, insert, literal, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rollcall.domain.errors.events import (
    EventCancelled,
    NoUpcomingOccurrence,
    OccurrenceCancelled,
)
from rollcall.domain.events.occurrences import get_occurrence
from rollcall.domain.events.place import ical_sequence
from rollcall.domain.jobs import actor_names
from rollcall.domain.jobs.outbox import add_message
from rollcall.domain.jobs.row_guard import each_row
from rollcall.domain.ops.mail import attendee_context, event_context
from rollcall.models import Attendee, EmailMessage, Enrollment, Event, Occurrence, ReminderRun
from rollcall.models.base import new_id

SCHEDULED_KINDS: tuple[Literal["before", "after"], ...] = ("before", "after")
TEMPLATES = {"before": "reminder_before", "after": "reminder_after"}

Decision = Literal["wait", "send", "missed"]


# Pure policies ------------------------------------------------------------------


def reminder_moment(
    kind: str,
    *,
    starts_at: datetime,
    ends_at: datetime,
    before_minutes: int | None,
    after_minutes: int | None,
) -> datetime | None:
    """When a reminder of ``kind`` is due for an occurrence; None when off."""
    if kind == "before" and before_minutes is not None:
        return starts_at - timedelta(minutes=before_minutes)
    if kind == "after" and after_minutes is not None:
        return ends_at + timedelta(minutes=after_minutes)
    return None


def send_deadline(kind: str, *, starts_at: datetime) -> datetime | None:
    """The moment from which a run of ``kind`` may no longer send: a "before"
    reminder never goes out once its occurrence has started; None: no limit."""
    return starts_at if kind == "before" else None


def run_decision(
    due_at: datetime, *, now: datetime, grace: timedelta, deadline: datetime | None = None
) -> Decision:
    """``wait`` before the moment, ``send`` from the moment until ``grace``
    after it (inclusive), ``missed`` later than that or from ``deadline`` on
    (send_deadline: the occurrence's start, for a "before" reminder)."""
    if now < due_at:
        return "wait"
    if now - due_at > grace or (deadline is not None and now >= deadline):
        return "missed"
    return "send"


def scheduled_run_key(kind: str, sequence: int) -> str:
    """The run key of a scheduled reminder of an occurrence rescheduled
    ``sequence`` times: ``before``, then ``before#1``, ``before#2``, ... so a
    moved date gets a run of its own at its new moment (one per key)."""
    return kind if not sequence else f"{kind}#{sequence}"


def _run_key_column(kind: str) -> Any:
    """scheduled_run_key in SQL, over Occurrence.sequence."""
    return case(
        (Occurrence.sequence == 0, literal(kind)),
        else_=literal(f"{kind}#") + cast(Occurrence.sequence, String),
    )


def dedupe_key(run_id: uuid.UUID, attendee_id: uuid.UUID) -> str:
    return f"reminder:{run_id}:{attendee_id}"


# Recording runs -----------------------------------------------------------------


def _record_run(
    session: Session,
    *,
    occurrence: Occurrence,
    event: Event,
    kind: str,
    run_key: str,
    due_at: datetime,
    state: str,
    now: datetime,
    job_id: uuid.UUID | None = None,
    note: str | None = None,
) -> ReminderRun | None:
    """Insert the run; None when another scheduler already recorded it."""
    run = ReminderRun(
        organisation_id=event.organisation_id,
        event_id=event.id,
        occurrence_id=occurrence.id,
        kind=kind,
        run_key=run_key,
        due_at=due_at,
        state=state,
        recipients=0,
        job_id=job_id,
        note=note,
        created_at=now,
        finished_at=now if state == "missed" else None,
    )
    try:
        with session.begin_nested():
            session.add(run)
            session.flush()
    except IntegrityError:
        # The unique (occurrence_id, run_key) refused a second run: someone won.
        return None
    if state == "pending":
        add_message(session, actor=actor_names.RUN_REMINDER, args=[str(run.id)], now=now)
    return run


def _later(now: datetime, minutes: int) -> datetime:
    """``now`` plus ``minutes``, at most the last representable moment (one
    event's absurd setting must not make the bound itself overflow)."""
    try:
        return now + timedelta(minutes=max(minutes, 0))
    except OverflowError:
        return datetime.max.replace(tzinfo=now.tzinfo)


def record_due_reminders(session: Session, *, now: datetime, grace: timedelta) -> list[ReminderRun]:
    """Record a run for every occurrence whose reminder moment has passed and
    that has none yet: ``pending`` (with an outbox message for the worker) when
    within ``grace`` of the moment, ``missed`` when later. Idempotent: a second
    call, concurrent or not, records nothing new."""
    recorded: list[ReminderRun] = []
    for kind in SCHEDULED_KINDS:
        minutes = (
            Event.reminder_before_minutes if kind == "before" else Event.reminder_after_minutes
        )
        longest = session.scalar(select(func.max(minutes)))
        if longest is None:
            continue
        # A coarse bound in SQL (portable, no interval arithmetic); the exact
        # moment per event is decided by run_decision below.
        bound = (
            Occurrence.starts_at <= _later(now, longest)
            if kind == "before"
            else Occurrence.ends_at <= now
        )
        has_run = exists().where(
            ReminderRun.occurrence_id == Occurrence.id,
            ReminderRun.run_key == _run_key_column(kind),
        )
        rows = session.execute(
            select(Occurrence, Event)
            .join(Event, Event.id == Occurrence.event_id)
            .where(
                minutes.is_not(None),
                Event.cancelled.is_(False),
                Event.status.in_(("published", "completed")),
                Occurrence.cancelled.is_(False),
                bound,
                ~has_run,
            )
            .order_by(Occurrence.starts_at)
        ).all()
        for occurrence, event in rows:
            # Each occurrence on its own: one organisation's odd row (an event
            # in year 1 has no representable reminder moment) is skipped, and
            # every other organisation still gets its reminders.
            with each_row(session, f"occurrence {occurrence.id} ({kind} reminder)"):
                run = _record_due_run(session, occurrence, event, kind, now=now, grace=grace)
                if run is not None:
                    recorded.append(run)
    return recorded


def _record_due_run(
    session: Session,
    occurrence: Occurrence,
    event: Event,
    kind: str,
    *,
    now: datetime,
    grace: timedelta,
) -> ReminderRun | None:
    due_at = reminder_moment(
        kind,
        starts_at=occurrence.starts_at,
        ends_at=occurrence.ends_at,
        before_minutes=event.reminder_before_minutes,
        after_minutes=event.reminder_after_minutes,
    )
    if due_at is None:
        return None
    deadline = send_deadline(kind, starts_at=occurrence.starts_at)
    decision = run_decision(due_at, now=now, grace=grace, deadline=deadline)
    if decision == "wait":
        return None
    late = deadline is not None and now >= deadline
    return _record_run(
        session,
        occurrence=occurrence,
        event=event,
        kind=kind,
        run_key=scheduled_run_key(kind, occurrence.sequence),
        due_at=due_at,
        state="pending" if decision == "send" else "missed",
        now=now,
        note=(
            None
            if decision == "send"
            else f"found at {now.isoformat()}, "
            + ("after the occurrence started" if late else "past the grace")
        ),
    )


def pick_occurrence(
    session: Session, *, event: Event, occurrence_id: str | None, now: datetime
) -> Occurrence:
    """The occurrence an ad-hoc reminder is about: the one named, else the next
    one not yet ended. Raises OccurrenceNotFound, OccurrenceCancelled,
    NoUpcomingOccurrence, EventCancelled."""
    if event.cancelled:
        raise EventCancelled()
    if occurrence_id is not None:
        occurrence = get_occurrence(session, event=event, occurrence_id=occurrence_id)
        if occurrence.cancelled:
            raise OccurrenceCancelled(
                "The occurrence is cancelled; it gets no reminder.", id=occurrence_id
            )
        return occurrence
    upcoming = session.scalar(
        select(Occurrence)
        .where(
            Occurrence.event_id == event.id,
            Occurrence.cancelled.is_(False),
            Occurrence.ends_at > now,
        )
        .order_by(Occurrence.starts_at)
        .limit(1)
    )
    if upcoming is None:
        raise NoUpcomingOccurrence()
    return upcoming


def request_adhoc_reminder(
    session: Session, *, event: Event, occurrence: Occurrence, now: datetime, job_id: uuid.UUID
) -> ReminderRun:
    """Record an ad-hoc run for ``occurrence`` due now (one per job)."""
    run = _record_run(
        session,
        occurrence=occurrence,
        event=event,
        kind="adhoc",
        run_key=f"adhoc:{job_id}",
        due_at=now,
        state="pending",
        now=now,
        job_id=job_id,
    )
    assert run is not None, "one ad-hoc run per job"
    return run


# Preparing a run ----------------------------------------------------------------


def recipients_query(run: ReminderRun) -> Any:
    """Attendees enrolled at the run's moment, still enrolled, in the event as
    a whole or in this occurrence. Waitlisted, removed and cancelled people,
    and people enrolled after the moment, are not in it."""
    # An IN over the event's enrollments (index on event_id, status), not a
    # correlated EXISTS per attendee: that scanned every attendee of every
    # organisation and made a 10,000-person run ten times slower.
    enrolled = select(Enrollment.attendee_id).where(
        Enrollment.event_id == run.event_id,
        Enrollment.status == "enrolled",
        Enrollment.enrolled_at <= run.due_at,
        or_(
            Enrollment.scope_key == "event",
            Enrollment.scope_key == f"occ:{run.occurrence_id}",
        ),
    )
    return select(Attendee).where(Attendee.id.in_(enrolled)).order_by(Attendee.id)


def reminder_template(run: ReminderRun, occurrence: Occurrence) -> str:
    if run.kind == "adhoc":
        return "reminder_after" if run.due_at >= occurrence.ends_at else "reminder_before"
    return TEMPLATES[run.kind]


def prepare_reminder_run(
    session: Session, *, run_id: uuid.UUID, now: datetime, include_calendar: bool = True
) -> ReminderRun | None:
    """Lock the run and, the first time, write one queued EmailMessage per
    recipient (dedupe key per run and attendee). Returns the run while it has
    mail to send, None when it is done, missed or cancelled (redelivery is
    harmless). A run whose event or occurrence was cancelled since it was
    recorded becomes ``cancelled`` and mails nobody."""
    run = session.get(ReminderRun, run_id, with_for_update=True, populate_existing=True)
    if run is None or run.state in ("done", "missed", "cancelled"):
        return None
    if run.state == "sending":
        return run
    occurrence = session.get(Occurrence, run.occurrence_id)
    event = session.get(Event, run.event_id)
    assert occurrence is not None and event is not None
    if event.cancelled or occurrence.cancelled:
        # Cancelled between recording and sending: a reminder would mislead.
        run.state = "cancelled"
        run.note = "the event or occurrence was cancelled before the run was sent"
        run.finished_at = now
        return None
    if run.kind in SCHEDULED_KINDS and run.run_key != scheduled_run_key(
        run.kind, occurrence.sequence
    ):
        # Moved since the run was recorded: the run of the new time reminds.
        run.state = "cancelled"
        run.note = RESCHEDULED_NOTE
        run.finished_at = now
        return None
    deadline = send_deadline(run.kind, starts_at=occurrence.starts_at)
    if deadline is not None and now >= deadline:
        # Delayed past the start (a backlog, a broker outage): too late to remind.
        run.state = "missed"
        run.note = f"the occurrence had started when the run came to send ({now.isoformat()})"
        run.finished_at = now
        return None
    template = reminder_template(run, occurrence)
    shared = _shared_context(
        run, event, occurrence, template=template, include_calendar=include_calendar
    )
    already = set(
        session.scalars(select(EmailMessage.dedupe_key).where(EmailMessage.run_id == run.id))
    )
    rows = _mail_rows(
        session, run, template=template, shared=shared, already=already, now=now, deadline=deadline
    )
    for start in range(0, len(rows), 1000):
        session.execute(insert(EmailMessage), rows[start : start + 1000])
    run.state = "sending"
    run.recipients = len(rows) + len(already)
    run.started_at = now
    return run


def _shared_context(
    run: ReminderRun,
    event: Event,
    occurrence: Occurrence,
    *,
    template: str,
    include_calendar: bool,
) -> dict[str, Any]:
    """The template context every recipient's mail shares."""
    event_ctx = event_context(event)
    # The mail speaks of this date, not the event's first one.
    event_ctx["starts_at"] = occurrence.starts_at.isoformat()
    event_ctx["ends_at"] = occurrence.ends_at.isoformat()
    calendar = include_calendar and bool((event.settings or {}).get("calendar_file", True))
    return {
        "event": event_ctx,
        "occurrence": {
            "id": str(occurrence.id),
            "starts_at": occurrence.starts_at.isoformat(),
            "ends_at": occurrence.ends_at.isoformat(),
            "sequence": ical_sequence(occurrence.sequence, event.place_sequence),
        },
        "reminder": {"kind": run.kind, "run_id": str(run.id), "due_at": run.due_at.isoformat()},
        "attach_calendar": calendar and template == "reminder_before",
    }


def _mail_rows(
    session: Session,
    run: ReminderRun,
    *,
    template: str,
    shared: dict[str, Any],
    already: set[str | None],
    now: datetime,
    deadline: datetime | None,
) -> list[dict[str, Any]]:
    """A queued EmailMessage row per recipient not mailed yet by this run, with
    the run's send deadline as each mail's ``not_after``: a mail that cannot go
    before it (a long run, a retry, a requeue) is never sent."""
    rows: list[dict[str, Any]] = []
    for attendee in session.scalars(recipients_query(run)):
        key = dedupe_key(run.id, attendee.id)
        if key in already:
            continue
        rows.append(
            {
                "id": new_id(),
                "organisation_id": run.organisation_id,
                "run_id": run.id,
                "job_id": run.job_id,
                "dedupe_key": key,
                "template": template,
                "to_address": attendee.email,
                "to_name": attendee.name or "",
                "context": shared | {"attendee": attendee_context(attendee)},
                "state": "queued",
                "attempts": 0,
                "created_at": now,
                "updated_at": now,
                "not_after": deadline,
            }
        )
    return rows


RESCHEDULED_NOTE = "the occurrence was rescheduled; the run of its new time reminds"


def cancel_stale_runs(session: Session, *, occurrence_id: uuid.UUID, now: datetime) -> int:
    """Cancel the scheduled runs of a rescheduled occurrence that have not
    started sending (``pending``); returns how many. Their moment was the old
    time's: the scheduler records the new time's run (scheduled_run_key) when
    it is due. Runs already sending or done stay as they are."""
    result = session.execute(
        update(ReminderRun)
        .where(
            ReminderRun.occurrence_id == occurrence_id,
            ReminderRun.kind.in_(SCHEDULED_KINDS),
            ReminderRun.state == "pending",
        )
        .values(state="cancelled", note=RESCHEDULED_NOTE, finished_at=now)
        .execution_options(synchronize_session="fetch")
    )
    return int(getattr(result, "rowcount", 0) or 0)


def finish_reminder_run(session: Session, *, run_id: uuid.UUID, now: datetime) -> bool:
    """Mark the run done once none of its mails waits to be claimed."""
    run = session.get(ReminderRun, run_id, with_for_update=True, populate_existing=True)
    if run is None or run.state != "sending":
        return False
    waiting = session.scalar(
        select(func.count())
        .select_from(EmailMessage)
        .where(EmailMessage.run_id == run_id, EmailMessage.state == "queued")
    )
    if waiting:
        return False
    run.state = "done"
    run.finished_at = now
    return True
