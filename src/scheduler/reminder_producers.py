"""Reminder and mail producers: record due reminder runs, re-enqueue stalled work.

Producers only enqueue; the worker sends. Each is idempotent per tick: the
reminder run table's unique (occurrence, run key) decides, not the scheduler.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import func, select

from domain.clock import utcnow
from domain.outbox import take_pending
from domain.reminders import RUN_REMINDER_ACTOR, record_due_reminders
from domain.row_guard import each_row
from models import EmailMessage, ReminderRun
from models.db import sessions_for
from rollcall.settings import Settings
from workers.broker import get_broker
from workers.outbox import dispatch

logger = logging.getLogger("rollcall.scheduler")

#: A run still ``sending`` with queued mail this long after it started has lost
#: its worker (retries exhausted, or the message was dropped): enqueue it again.
STALLED_RUN_AFTER = timedelta(minutes=30)


def produce_reminders(settings: Settings, now: datetime | None = None) -> int:
    """Record the runs due at ``now`` and enqueue the ones to send; returns how
    many runs were recorded (sent or missed)."""
    now = now or utcnow()
    factory = sessions_for(settings.database_url)
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
    """Re-enqueue mail left ``retrying`` past its longest backoff (its retry
    message was lost) and runs left ``sending`` with queued mail. Duplicates
    are harmless: every sender claims a row before sending it."""
    now = now or utcnow()
    broker = get_broker()
    factory = sessions_for(settings.database_url)
    mail_cutoff = now - timedelta(milliseconds=settings.mail_retry_max_ms) - timedelta(minutes=5)
    with factory() as session:
        mail_ids = session.scalars(
            select(EmailMessage.id)
            .where(EmailMessage.state == "retrying", EmailMessage.updated_at < mail_cutoff)
            .limit(1000)
        ).all()
        waiting = (
            select(func.count())
            .select_from(EmailMessage)
            .where(EmailMessage.run_id == ReminderRun.id, EmailMessage.state == "queued")
            .scalar_subquery()
        )
        run_ids = session.scalars(
            select(ReminderRun.id).where(
                ReminderRun.state == "sending",
                ReminderRun.started_at < now - STALLED_RUN_AFTER,
                waiting > 0,
            )
        ).all()
    send_email = broker.get_actor("send_email")
    run_reminder = broker.get_actor(RUN_REMINDER_ACTOR)
    # Each on its own; a broker failure is no row's fault and fails the tick.
    for mail_id in mail_ids:
        with each_row(None, f"mail {mail_id}"):
            send_email.send(str(mail_id))
    for run_id in run_ids:
        with each_row(None, f"reminder run {run_id}"):
            run_reminder.send(str(run_id))
    total = len(mail_ids) + len(run_ids)
    if total:
        logger.info("requeued %d stalled mail(s) and %d run(s)", len(mail_ids), len(run_ids))
    return total
