"""Actors are thin: turn ids into work, call one function, dispatch the outbox.

This module is the worker process's entry point (the dramatiq CLI imports it:
``dramatiq rollcall.workers.actors``): importing it builds the settings, once,
and the broker from them, and declares every actor under its name in
``domain.jobs.actor_names``. The actors read the settings given to
``configure``; tests call it to point them at their own stack.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import dramatiq
from dramatiq.middleware import CurrentMessage
from sqlalchemy.exc import OperationalError

# Imported to register their job handlers (enrollment, event management, ad-hoc reminder).
import rollcall.domain.enrollment.jobs
import rollcall.domain.events.change_notice
import rollcall.domain.events.jobs
import rollcall.domain.reminders.jobs  # noqa: F401
from rollcall.config.logs import configure_logging, job_context
from rollcall.config.settings import Settings, get_settings
from rollcall.domain.calendar import cache
from rollcall.domain.clock import utcnow
from rollcall.domain.errors import DomainError
from rollcall.domain.jobs import actor_names
from rollcall.domain.jobs.engine import apply_job
from rollcall.messaging.broker import configure_broker, get_broker
from rollcall.messaging.outbox import dispatch
from rollcall.models.db import sessions_of
from rollcall.workers.mail_delivery import ORDER_WAIT_MS, deliver_email, retry_delay_ms
from rollcall.workers.mail_run import send_placement_batch, send_reminder_run
from rollcall.workers.smtp import TransientMailError

#: The settings every actor reads: this process's, built here at its start.
_settings: Settings = get_settings()
broker = configure_broker(_settings)


def configure(settings: Settings) -> None:
    """Point every actor at ``settings`` (an in-process worker in tests; the
    worker process keeps those it started with)."""
    global _settings
    _settings = settings


if not logging.getLogger().handlers:
    # Under `dramatiq --skip-logging` (rollcall worker) nothing is configured yet:
    # the worker logs JSON lines like the web process, with job and request ids.
    configure_logging(_settings.log_level, _settings.log_json)

#: A backstop only: settings.mail_max_attempts (counted on the row) fails a
#: mail first; this keeps a message from looping if the row cannot be updated.
MAIL_MAX_RETRIES = 50


@dramatiq.actor(
    actor_name=actor_names.PROCESS_JOB,
    queue_name=actor_names.QUEUE_OF[actor_names.PROCESS_JOB],
    max_retries=10,
    throws=(DomainError,),
)
def process_job(job_id: str) -> None:
    factory = sessions_of(_settings)
    with job_context(job_id):
        outbox_ids = apply_job(
            factory,
            uuid.UUID(job_id),
            now=utcnow,
            # Chunked jobs (bulk enroll) hand each chunk's mail over at its commit.
            after_commit=lambda ids: dispatch(factory, get_broker(), ids, now=utcnow()),
        )
        dispatch(factory, get_broker(), outbox_ids, now=utcnow())


def _mail_retry_when(retries: int, exc: BaseException) -> bool:
    return isinstance(exc, TransientMailError | dramatiq.Retry) and retries < MAIL_MAX_RETRIES


@dramatiq.actor(
    actor_name=actor_names.SEND_EMAIL,
    queue_name=actor_names.QUEUE_OF[actor_names.SEND_EMAIL],
    retry_when=_mail_retry_when,
    min_backoff=5_000,
    max_backoff=15 * 60_000,
)
def send_email(email_id: str) -> None:
    settings = _settings
    message = CurrentMessage.get_current_message()
    retries = message.options.get("retries", 0) if message else 0
    outcome = deliver_email(
        sessions_of(settings),
        settings,
        uuid.UUID(email_id),
        now=utcnow,
        last_attempt=retries >= MAIL_MAX_RETRIES,
    )
    if outcome.state == "blocked" and message is not None:
        # An earlier mail of this attendee and event is not out yet: wait for
        # it. Not a failure: undo the retry Dramatiq is about to count, so
        # waiting never uses up MAIL_MAX_RETRIES.
        message.options["retries"] = retries - 1
        raise dramatiq.Retry(f"mail {email_id}: waiting for an earlier mail", delay=ORDER_WAIT_MS)
    if outcome.state == "retrying":
        # The settings' backoff (base x 2^(attempt-1), capped), not Dramatiq's default.
        raise dramatiq.Retry(
            f"mail {email_id}: {outcome.error}",
            delay=retry_delay_ms(settings, outcome.attempts),
        )


def _placement_retry_when(retries: int, exc: BaseException) -> bool:
    # A database hiccup while writing the mails must not lose them either.
    retryable = TransientMailError | dramatiq.Retry | OperationalError
    return isinstance(exc, retryable) and retries < MAIL_MAX_RETRIES


@dramatiq.actor(
    actor_name=actor_names.SEND_PLACEMENT_MAILS,
    queue_name=actor_names.QUEUE_OF[actor_names.SEND_PLACEMENT_MAILS],
    retry_when=_placement_retry_when,
    min_backoff=5_000,
    max_backoff=15 * 60_000,
    time_limit=60 * 60_000,
)
def send_placement_mails(items: list[list[Any]]) -> None:
    """Write and send the mails of enrollments placed set-wise (a bulk chunk, a
    group of enroll jobs) over one SMTP connection (domain.enrollment.placement_mails)."""
    send_placement_batch(sessions_of(_settings), _settings, get_broker(), items, now=utcnow)


def _run_retry_when(retries: int, exc: BaseException) -> bool:
    return isinstance(exc, TransientMailError) and retries < MAIL_MAX_RETRIES


@dramatiq.actor(
    actor_name=actor_names.RUN_REMINDER,
    queue_name=actor_names.QUEUE_OF[actor_names.RUN_REMINDER],
    retry_when=_run_retry_when,
    min_backoff=5_000,
    max_backoff=15 * 60_000,
    time_limit=6 * 60 * 60_000,
)
def run_reminder(run_id: str) -> None:
    """Send one reminder run's mails over one SMTP connection (workers.mail_run)."""
    send_reminder_run(
        sessions_of(_settings), _settings, get_broker(), uuid.UUID(run_id), now=utcnow
    )


@dramatiq.actor(
    actor_name=actor_names.REBUILD_CALENDAR,
    queue_name=actor_names.QUEUE_OF[actor_names.REBUILD_CALENDAR],
    max_retries=3,
    time_limit=60 * 60_000,
)
def rebuild_calendar() -> None:
    """Rebuild the whole calendar cache from the source tables (idempotent)."""
    cache.rebuild_calendar(sessions_of(_settings))


ACTORS = [process_job, send_email, send_placement_mails, run_reminder, rebuild_calendar]
