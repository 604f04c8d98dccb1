"""Reminder and mail producers: record due reminder runs, re-enqueue stalled work.

Producers only enqueue; the worker sends. Each is idempotent per tick: the
reminder run table's unique (occurrence, run key) decides, not the scheduler.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import func, select, true, update

from rollcall.config.settings import Settings
from rollcall.domain.clock import utcnow
from rollcall.domain.jobs import actor_names
from rollcall.domain.jobs.outbox import add_message, take_pending
from rollcall.domain.ops.mail_claims import RETRY_CLAIMS, claimable_before, expire_mail
from rollcall.domain.reminders.runs import finish_reminder_run, record_due_reminders
from rollcall.messaging.broker import get_broker
from rollcall.messaging.outbox import dispatch
from rollcall.models import EmailMessage, ReminderRun
from rollcall.models.db import sessions_of, transaction

logger = logging.getLogger("rollcall.scheduler")

#: A run still ``sending`` with queued mail this long after it started, none of
#: whose mails moved for as long, has lost its worker (retries exhausted, or
#: the message was dropped): enqueue it again.
STALLED_RUN_AFTER = timedelta(minutes=30)
#: The note on a mail whose sender's lease ran out.
LEASE_EXPIRED = (
    "its sender stopped before recording the outcome; it may have been sent once already"
)


def produce_reminders(settings: Settings, now: datetime | None = None) -> int:
    """Record the runs due at ``now`` and enqueue the ones to send; returns how
    many runs were recorded (sent or missed)."""
    now = now or utcnow()
    factory = sessions_of(settings)
    with factory() as session, session.begin():
        runs = record_due_reminders(
            session, now=now, grace=timedelta(minutes=settings.reminder_grace_minutes)
        )
        outbox_ids = take_pending(session)
    dispatch(factory, get_broker(), outbox_ids, now=now)
    for run in runs:
        logger.info(
            "reminder run %s",
            run.state,
            extra={
                "run_id": str(run.id),
                "occurrence_id": str(run.occurrence_id),
                "kind": run.kind,
                "state": run.state,
            },
        )
    return len(runs)


def requeue_stalled_mail(settings: Settings, now: datetime | None = None) -> int:
    """Hand stalled mail and runs to the workers again, through the outbox:

    - mail ``sending`` past its lease (MAIL_LEASE_SECONDS): its sender died
      between claim and record. It goes back to ``queued`` with a note, as it
      may have reached the server once already;
    - mail ``retrying`` past its longest backoff (its retry message was lost);
    - but mail past its send deadline (``not_after``) is made ``expired``
      instead, never handed over (domain.ops.mail_claims.claimable_before);
    - runs ``sending`` with queued mail, started 30 minutes ago and none of
      whose mails moved in 30 minutes (their run message gave up).

    Returns how many mails and runs were handed over. Duplicates are
    harmless: every sender claims a row before sending it.
    """
    now = now or utcnow()
    factory = sessions_of(settings)
    lease_cutoff = now - timedelta(seconds=settings.mail_lease_seconds)
    retry_cutoff = now - timedelta(milliseconds=settings.mail_retry_max_ms) - timedelta(minutes=5)
    with transaction(factory) as session:
        m = EmailMessage
        # Past its send deadline, a stalled mail is never handed over again:
        # it ends expired (a before-reminder whose occurrence has started).
        overdue = expire_mail(session, true(), cutoff=lease_cutoff, now=now)
        expired = session.scalars(
            update(m)
            .where(m.state == "sending", claimable_before(lease_cutoff, now))
            .values(state="queued", updated_at=now, last_error=LEASE_EXPIRED)
            .returning(m.id)
            .execution_options(synchronize_session=False)
        ).all()
        # Its next look at a mail still waiting is one longest backoff away.
        retrying = session.scalars(
            update(m)
            .where(
                m.state == "retrying",
                m.updated_at < retry_cutoff,
                claimable_before(lease_cutoff, now, states=RETRY_CLAIMS),
            )
            .values(updated_at=now)
            .returning(m.id)
            .execution_options(synchronize_session=False)
        ).all()
        # A run whose last waiting mails just expired has nothing left to send.
        for run_id in set(
            session.scalars(select(m.run_id).where(m.id.in_(overdue), m.run_id.is_not(None)))
        ):
            if run_id is not None:
                finish_reminder_run(session, run_id=run_id, now=now)
        waiting = (
            select(func.count())
            .select_from(m)
            .where(m.run_id == ReminderRun.id, m.state == "queued")
            .scalar_subquery()
        )
        moved = (
            select(m.id)
            .where(m.run_id == ReminderRun.id, m.updated_at >= now - STALLED_RUN_AFTER)
            .exists()
        )
        run_ids = session.scalars(
            select(ReminderRun.id).where(
                ReminderRun.state == "sending",
                ReminderRun.started_at < now - STALLED_RUN_AFTER,
                waiting > 0,
                ~moved,
            )
        ).all()
        for mail_id in [*expired, *retrying]:
            add_message(session, actor=actor_names.SEND_EMAIL, args=[str(mail_id)], now=now)
        for run_id in run_ids:
            add_message(session, actor=actor_names.RUN_REMINDER, args=[str(run_id)], now=now)
        outbox_ids = take_pending(session)
    dispatch(factory, get_broker(), outbox_ids, now=now)
    total = len(expired) + len(retrying) + len(run_ids)
    if total or overdue:
        logger.info(
            "requeued stalled mail",
            extra={
                "lease_expired": len(expired),
                "retrying": len(retrying),
                "runs": len(run_ids),
                "past_deadline": len(overdue),
            },
        )
    return total
