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
from rollcall.messaging.job_outcomes import FinishedPublisher
from rollcall.messaging.outbox import dispatch_written
from rollcall.models.db import sessions_of
from rollcall.workers.mail_delivery import ORDER_WAIT_MS, deliver_email, retry_delay_ms
from rollcall.workers.mail_run import send_placement_batch, send_reminder_run
from rollcall.workers.smtp import TransientMailError
from rollcall.workers.smtp_keep import ClosesKeptSmtp
from rollcall.workers.webhook_delivery import deliver_webhook as send_webhook

#: The settings every actor reads: this process's, built here at its start.
_settings: Settings = get_settings()
broker = configure_broker(_settings)
# A worker thread's kept SMTP connection gets its QUIT when the thread stops.
broker.add_middleware(ClosesKeptSmtp())
#: Announces finished jobs to those waiting on them (messaging.job_outcomes).
_announce = FinishedPublisher(_settings)


def configure(settings: Settings) -> None:
    """Point every actor at ``settings`` (an in-process worker in tests; the
    worker process keeps those it started with)."""
    global _settings, _announce
    _settings = settings
    _announce = FinishedPublisher(settings)


if not logging.getLogger().handlers:
    # Under `dramatiq --skip-logging` (rollcall worker) nothing is configured yet:
    # the worker logs JSON lines like the web process, with job and request ids.
    configure_logging(_settings.log_level, _settings.log_json)

#: A backstop for a TransientMailError raised out of send_email. A refused
#: mail's retries are counted on its row instead (settings.mail_max_attempts
#: makes its last attempt ``failed``, and then nothing retries it).
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
        # The outbox rows go out as their transactions wrote them, once
        # committed: none is read back (messaging.outbox.dispatch_written).
        written = apply_job(
            factory,
            uuid.UUID(job_id),
            now=utcnow,
            # Chunked jobs (bulk enroll) hand each chunk's mail over at its commit.
            after_commit=lambda rows: dispatch_written(factory, get_broker(), rows, now=utcnow()),
            on_finished=_announce,
        )
        dispatch_written(factory, get_broker(), written, now=utcnow())


class WaitForEarlierMail(dramatiq.Retry):
    """An earlier mail of this attendee and event is not out yet: try again
    after ORDER_WAIT_MS. Not a failure, and no attempt: the wait ends when the
    earlier mail is sent, failed or expired."""


def _mail_retry_when(retries: int, exc: BaseException) -> bool:
    """Dramatiq's retry decision for send_email (its ``retry_when`` option,
    which takes precedence over max_retries): a Retry we raised (an order
    wait, or a refusal with attempts left on the row) is always retried, as
    the row bounds it; Dramatiq's count, which order waits also raise, never
    cuts a mail short."""
    if isinstance(exc, dramatiq.Retry):
        return True
    return isinstance(exc, TransientMailError) and retries < MAIL_MAX_RETRIES


@dramatiq.actor(
    actor_name=actor_names.SEND_EMAIL,
    queue_name=actor_names.QUEUE_OF[actor_names.SEND_EMAIL],
    retry_when=_mail_retry_when,
    min_backoff=5_000,
    max_backoff=15 * 60_000,
)
def send_email(email_id: str) -> None:
    settings = _settings
    # The row counts the attempts (settings.mail_max_attempts decides the
    # last one); Dramatiq's count of redeliveries includes the order waits.
    outcome = deliver_email(
        sessions_of(settings), settings, uuid.UUID(email_id), now=utcnow, last_attempt=False
    )
    if outcome.state == "blocked":
        raise WaitForEarlierMail(
            f"mail {email_id}: waiting for an earlier mail", delay=ORDER_WAIT_MS
        )
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


class WaitForWebhookTurn(dramatiq.Retry):
    """The delivery waits out a lease or its due time (an earlier delivery of
    the subscription is not finished): not a failure of this message."""


def _webhook_retry_when(retries: int, exc: BaseException) -> bool:
    # The delivery row counts attempts and decides when to give up
    # (domain.webhooks.policy); a turn wait is always retried. Anything else
    # (a database hiccup while recording) is retried too: a message given up
    # on would leave its delivery claimed, holding back the subscription's
    # later ones.
    return isinstance(exc, WaitForWebhookTurn) or retries < WEBHOOK_MAX_RETRIES


#: A backstop only: the retry window (WEBHOOK_RETRY_WINDOW_SECONDS) ends a delivery first.
WEBHOOK_MAX_RETRIES = 1000


@dramatiq.actor(
    actor_name=actor_names.DELIVER_WEBHOOK,
    queue_name=actor_names.QUEUE_OF[actor_names.DELIVER_WEBHOOK],
    retry_when=_webhook_retry_when,
    min_backoff=1_000,
    max_backoff=6 * 60 * 60_000,
    time_limit=5 * 60_000,
)
def deliver_webhook(delivery_id: str) -> None:
    """Attempt one webhook delivery if its turn has come (workers.webhook_delivery)."""
    factory = sessions_of(_settings)
    sent = send_webhook(factory, _settings, uuid.UUID(delivery_id), now=utcnow)
    dispatch_written(factory, get_broker(), sent.written, now=utcnow())
    if sent.retry_in_ms is not None:
        retry = dramatiq.Retry if sent.state == "retrying" else WaitForWebhookTurn
        raise retry(f"webhook {delivery_id}: {sent.state}", delay=sent.retry_in_ms)


ACTORS = [
    process_job,
    send_email,
    send_placement_mails,
    run_reminder,
    rebuild_calendar,
    deliver_webhook,
]
