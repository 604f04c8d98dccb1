"""What the operators' dashboard reads from the database, per organisation.

Every function takes the caller's organisation: a dashboard user sees that
organisation's jobs, mail and events only. Queue-wide figures come from Redis
(messaging.queue_inspect) and are shown to platform operators only.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rollcall.domain.enrollment.queries import orphaned
from rollcall.domain.errors.ops import JobNotFound, MailNotFound, MailNotResendable
from rollcall.domain.jobs import actor_names
from rollcall.domain.jobs.outbox import add_message
from rollcall.models import EmailMessage, Event, Job, Occurrence, OutboxMessage, Payment

PAGE = 100


@dataclass(frozen=True)
class JobFilter:
    type: str | None = None
    status: str | None = None
    event: str | None = None
    day: date | None = None


def _parse_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def list_jobs(
    session: Session, *, organisation_id: uuid.UUID, filters: JobFilter, limit: int = PAGE
) -> list[Job]:
    """The organisation's jobs matching ``filters``, newest first.

    ``filters.event`` is an event id or ref; an unknown one matches nothing.
    """
    query = select(Job).where(Job.organisation_id == organisation_id)
    if filters.type:
        query = query.where(Job.type == filters.type)
    if filters.status:
        query = query.where(Job.status == filters.status)
    if filters.event:
        event_id = _parse_uuid(filters.event) or session.scalar(
            select(Event.id).where(
                Event.organisation_id == organisation_id, Event.ref == filters.event
            )
        )
        if event_id is None:
            return []
        query = query.where(Job.event_id == event_id)
    if filters.day:
        start = datetime.combine(filters.day, time(), tzinfo=UTC)
        query = query.where(Job.created_at >= start, Job.created_at < start + timedelta(days=1))
    return list(session.scalars(query.order_by(Job.created_at.desc()).limit(limit)))


def job_types(session: Session, *, organisation_id: uuid.UUID) -> list[str]:
    return list(
        session.scalars(select(Job.type).where(Job.organisation_id == organisation_id).distinct())
    )


def get_job_with_mail(
    session: Session, *, organisation_id: uuid.UUID, job_id: str
) -> tuple[Job, list[EmailMessage]]:
    """A job of this organisation and the mails it caused; raises JobNotFound."""
    key = _parse_uuid(job_id)
    job = session.get(Job, key) if key else None
    if job is None or job.organisation_id != organisation_id:
        raise JobNotFound(id=job_id)
    mails = session.scalars(
        select(EmailMessage).where(EmailMessage.job_id == job.id).order_by(EmailMessage.created_at)
    )
    return job, list(mails)


def jobs_per_minute(
    session: Session, *, organisation_id: uuid.UUID | None, now: datetime, minutes: int = 60
) -> list[tuple[datetime, int, int]]:
    """(minute, processed, failed) for each of the last ``minutes`` minutes.

    ``organisation_id=None`` counts every organisation (platform operators).
    """
    end = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    start = end - timedelta(minutes=minutes)
    query = select(Job.finished_at, Job.status).where(
        Job.finished_at >= start, Job.finished_at < end
    )
    if organisation_id is not None:
        query = query.where(Job.organisation_id == organisation_id)
    processed: Counter[int] = Counter()
    failed: Counter[int] = Counter()
    for finished_at, status in session.execute(query):
        if finished_at is None:
            continue
        slot = int((finished_at - start).total_seconds() // 60)
        processed[slot] += 1
        if status == "failed":
            failed[slot] += 1
    return [
        (start + timedelta(minutes=slot), processed[slot], failed[slot]) for slot in range(minutes)
    ]


def job_counts(session: Session, *, organisation_id: uuid.UUID) -> dict[str, int]:
    rows = session.execute(
        select(Job.status, func.count())
        .where(Job.organisation_id == organisation_id)
        .group_by(Job.status)
    )
    return {status: int(count) for status, count in rows}


def count_unsent_outbox(session: Session, *, now: datetime) -> tuple[int, float]:
    """Outbox rows not handed to the broker yet, and the oldest one's age in seconds.

    A growing number means Redis is refusing messages and the relay is behind.
    """
    count, oldest = session.execute(
        select(func.count(), func.min(OutboxMessage.created_at)).where(
            OutboxMessage.sent_at.is_(None)
        )
    ).one()
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    return int(count), (now - oldest).total_seconds() if oldest else 0.0


# Mail ---------------------------------------------------------------------------


def mail_counts(session: Session, *, organisation_id: uuid.UUID) -> dict[str, int]:
    rows = session.execute(
        select(EmailMessage.state, func.count())
        .where(EmailMessage.organisation_id == organisation_id)
        .group_by(EmailMessage.state)
    )
    return {state: int(count) for state, count in rows}


def list_mail(
    session: Session, *, organisation_id: uuid.UUID, state: str | None, limit: int = PAGE
) -> list[EmailMessage]:
    query = select(EmailMessage).where(EmailMessage.organisation_id == organisation_id)
    if state:
        query = query.where(EmailMessage.state == state)
    return list(session.scalars(query.order_by(EmailMessage.created_at.desc()).limit(limit)))


def resend_mail(
    session: Session, *, organisation_id: uuid.UUID, email_id: str, now: datetime
) -> EmailMessage:
    """Queue a failed mail again (state ``queued`` + an outbox row).

    Raises MailNotFound (also for another organisation's mail) or
    MailNotResendable when the mail did not fail.
    """
    key = _parse_uuid(email_id)
    mail = session.get(EmailMessage, key, with_for_update=True) if key else None
    if mail is None or mail.organisation_id != organisation_id:
        raise MailNotFound(id=email_id)
    if mail.state != "failed":
        raise MailNotResendable(id=email_id, state=mail.state)
    mail.state = "queued"
    add_message(session, actor=actor_names.SEND_EMAIL, args=[str(mail.id)], now=now)
    return mail


# Events -------------------------------------------------------------------------


@dataclass(frozen=True)
class SeatLine:
    label: str
    enrolled: int
    waitlisted: int
    capacity: int | None
    is_occurrence: bool


def seat_lines(session: Session, *, organisation_id: uuid.UUID, limit: int = 200) -> list[SeatLine]:
    """Enrolled / waitlisted / capacity per event, then per occurrence under it."""
    events = session.scalars(
        select(Event)
        .where(Event.organisation_id == organisation_id)
        .order_by(Event.starts_at.desc().nulls_last(), Event.created_at.desc())
        .limit(limit)
    ).all()
    occurrences: dict[uuid.UUID, list[Occurrence]] = {}
    if events:
        for occ in session.scalars(
            select(Occurrence)
            .where(Occurrence.event_id.in_([event.id for event in events]))
            .order_by(Occurrence.starts_at)
        ):
            occurrences.setdefault(occ.event_id, []).append(occ)
    lines = []
    for event in events:
        label = f"{event.name} ({event.ref})" if event.ref else event.name
        if event.cancelled:
            label += " [cancelled]"
        lines.append(
            SeatLine(
                f"{label} · {event.status}",
                event.enrolled_count,
                event.waitlisted_count,
                event.max_subscriptions,
                False,
            )
        )
        for occ in occurrences.get(event.id, []):
            lines.append(
                SeatLine(
                    occ.starts_at.strftime("%Y-%m-%d %H:%M UTC"),
                    occ.enrolled_count,
                    occ.waitlisted_count,
                    occ.capacity if occ.capacity is not None else event.max_subscriptions,
                    True,
                )
            )
    return lines


def orphan_payments(
    session: Session, *, organisation_id: uuid.UUID, limit: int = PAGE
) -> list[Payment]:
    """Payments whose enrollment is no longer enrolled or waitlisted (seed 003)."""
    query = (
        select(Payment)
        .where(orphaned(), Payment.organisation_id == organisation_id)
        .order_by(Payment.created_at.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def count_orphan_payments(session: Session) -> dict[uuid.UUID, int]:
    """Orphan payments per organisation, for /metrics."""
    rows = session.execute(
        select(Payment.organisation_id, func.count())
        .where(orphaned())
        .group_by(Payment.organisation_id)
    )
    return {org: int(count) for org, count in rows}
