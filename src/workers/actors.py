"""Actors are thin: turn ids into work, call one function, dispatch the outbox.

Import this module to declare them (the dramatiq CLI does: ``dramatiq workers.actors``).
"""

from __future__ import annotations

import uuid

import dramatiq
from dramatiq.middleware import CurrentMessage

import domain.enrollment_jobs  # noqa: F401  (registers the job handlers)
from domain.calendar_cache import rebuild_calendar as rebuild_calendar_cache
from domain.clock import utcnow
from domain.errors import DomainError
from domain.jobs import apply_job
from models.db import sessions_for
from rollcall.logs import job_context
from rollcall.settings import get_settings
from workers.broker import get_broker
from workers.mail_delivery import deliver_email
from workers.outbox import dispatch
from workers.smtp import TransientMailError

broker = get_broker()

MAIL_MAX_RETRIES = 8


@dramatiq.actor(queue_name="jobs", max_retries=10, throws=(DomainError,))
def process_job(job_id: str) -> None:
    settings = get_settings()
    factory = sessions_for(settings.database_url)
    with job_context(job_id):
        outbox_ids = apply_job(factory, uuid.UUID(job_id), now=utcnow)
        dispatch(factory, get_broker(), outbox_ids, now=utcnow())


def _mail_retry_when(retries: int, exc: BaseException) -> bool:
    return isinstance(exc, TransientMailError) and retries < MAIL_MAX_RETRIES


@dramatiq.actor(
    queue_name="mail",
    retry_when=_mail_retry_when,
    min_backoff=5_000,
    max_backoff=15 * 60_000,
)
def send_email(email_id: str) -> None:
    settings = get_settings()
    message = CurrentMessage.get_current_message()
    retries = message.options.get("retries", 0) if message else 0
    deliver_email(
        sessions_for(settings.database_url),
        settings,
        uuid.UUID(email_id),
        now=utcnow,
        last_attempt=retries >= MAIL_MAX_RETRIES,
    )


@dramatiq.actor(queue_name="calendar", max_retries=3, time_limit=60 * 60_000)
def rebuild_calendar() -> None:
    """Rebuild the whole calendar cache from the source tables (idempotent)."""
    rebuild_calendar_cache(sessions_for(get_settings().database_url))


ACTORS = [process_job, send_email, rebuild_calendar]
