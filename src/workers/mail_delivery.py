"""Delivering one EmailMessage row: claim, render, send, record the outcome.

States: ``queued`` -> ``sending`` -> ``sent`` | ``retrying`` | ``failed``; and
``expired``: a mail with a send deadline (``not_after``, a before-reminder's
occurrence start) that could not be claimed before it is never sent
(``claimable_before``, the one place that decides what may be claimed).
A mail is claimed (``sending``, attempts + 1) in a committed transaction
before any byte goes to SMTP, so two workers never send the same row. The
claim is a lease (``MAIL_LEASE_SECONDS``, from ``updated_at``): a sender that
dies between the send and the record leaves that one mail ``sending``, and
past the lease it is claimed and sent again. That mail may then arrive twice
(with the same Message-ID); no mail is lost.

Order: a mail with an order key is claimed only once every earlier mail of
its attendee and event is out (``in_order``). One that may not go yet is put
aside as ``retrying`` without an attempt counted, and tried again after
``ORDER_WAIT_MS``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from jinja2 import TemplateError
from sqlalchemy import (
    case,
    select,
)
from sqlalchemy.orm import Session, sessionmaker

from rollcall.config.settings import Settings
from rollcall.config.smtp_target import SmtpTarget
from rollcall.domain.jobs.outbox import take_written
from rollcall.domain.ops.mail_claims import (
    RETRY_CLAIMS,
    claimable_before,
    expirable_before,
    expire_mail,
    in_order,
)
from rollcall.domain.webhooks.causes import record_mail_failed
from rollcall.domain.webhooks.payloads import mail_data
from rollcall.messaging.broker import get_broker
from rollcall.messaging.outbox import dispatch_written
from rollcall.models import EmailMessage
from rollcall.workers.mail_ics import occurrence_ics
from rollcall.workers.mail_render import mail_locale, render_email
from rollcall.workers.smtp import (
    PermanentMailError,
    TransientMailError,
    build_message,
    send_message,
)

logger = logging.getLogger("rollcall.mail")

#: Errors that mean a mail can never be built: a bad header (CR/LF), a missing
#: or broken template. Such a mail is failed at once, never retried.
UNRENDERABLE = (ValueError, LookupError, TemplateError)


@dataclass(frozen=True)
class Claimed:
    """What a sender needs of a claimed mail, read inside the claim transaction."""

    id: uuid.UUID
    organisation_id: uuid.UUID
    template: str
    context: dict[str, Any]
    to_address: str
    to_name: str
    message_id: str
    attempts: int


def message_id_for(email_id: uuid.UUID, settings: Settings) -> str:
    """The Message-ID of a mail: stable across attempts, so a receiving server
    (and a person) can recognise a resend."""
    domain = settings.mail_from.rpartition("@")[2].rstrip(">") or "rollcall.localhost"
    return f"<{email_id}@{domain}>"


def lease_cutoff(settings: Settings, now: datetime) -> datetime:
    """A ``sending`` mail last updated before this has lost its sender."""
    return now - timedelta(seconds=settings.mail_lease_seconds)


#: How long a mail waits for the earlier mails of its attendee and event.
ORDER_WAIT_MS = 500


def claim(mail: EmailMessage, settings: Settings, now: datetime) -> Claimed:
    """Mark a locked row ``sending`` and count the attempt."""
    mail.state = "sending"
    mail.attempts += 1
    mail.updated_at = now
    if mail.message_id is None:
        mail.message_id = message_id_for(mail.id, settings)
    return Claimed(
        id=mail.id,
        organisation_id=mail.organisation_id,
        template=mail.template,
        context=dict(mail.context),
        to_address=mail.to_address,
        to_name=mail.to_name,
        message_id=mail.message_id,
        attempts=mail.attempts,
    )


def compose(settings: Settings, mail: Claimed, *, now: datetime) -> Any:
    """Render and build the MIME message (with the .ics when the context asks;
    ``now`` is its DTSTAMP). Raises one of UNRENDERABLE for a mail that can
    never be sent."""
    rendered = render_email(
        settings.templates_dir,
        mail.template,
        mail.context,
        organisation_id=str(mail.organisation_id),
        locale=mail_locale(mail.context),
    )
    attachments = []
    if mail.context.get("attach_calendar"):
        ics = occurrence_ics(mail.context, stamp=now)
        if ics is not None:
            attachments.append(ics)
    return build_message(
        rendered,
        sender=settings.mail_from,
        to_address=mail.to_address,
        to_name=mail.to_name,
        message_id=mail.message_id,
        attachments=tuple(attachments),
    )


def retry_delay_ms(settings: Settings, attempts: int) -> int:
    """Exponential backoff after ``attempts`` failed attempts, capped. Pure."""
    return int(
        min(settings.mail_retry_base_ms * 2 ** max(attempts - 1, 0), settings.mail_retry_max_ms)
    )


def state_after(
    refusal: Exception, attempts: int, settings: Settings, *, last_attempt: bool = False
) -> str:
    """What a mail refused on its ``attempts``-th attempt becomes: ``retrying``
    while a transient refusal leaves attempts, else ``failed``. Pure."""
    if not isinstance(refusal, TransientMailError):
        return "failed"
    final = last_attempt or attempts >= settings.mail_max_attempts
    return "failed" if final else "retrying"


@dataclass(frozen=True)
class Outcome:
    state: str
    attempts: int = 0
    error: str | None = None


def deliver_email(
    factory: sessionmaker[Session],
    settings: Settings,
    email_id: uuid.UUID,
    *,
    now: Callable[[], datetime],
    last_attempt: bool,
) -> Outcome:
    """Send one mail at most once per call; returns its new state.

    A sent or failed mail, or one another sender holds (``sending``, within
    its lease), is left alone (redelivery is safe). A transient SMTP failure marks it ``retrying``
    (the caller schedules the retry), unless this was the last attempt
    (``last_attempt`` or ``settings.mail_max_attempts`` reached), which marks
    it ``failed``. Never raises for an SMTP reply.
    """
    with factory() as session, session.begin():
        mail = session.get(EmailMessage, email_id, with_for_update=True)
        if mail is None:
            return Outcome("missing")
        at = now()
        cutoff = lease_cutoff(settings, at)
        verdict = _verdict(session, email_id, cutoff, at)
        if verdict == "expire":
            expire_mail(session, EmailMessage.id == email_id, cutoff=cutoff, now=at)
            return Outcome("expired", mail.attempts)
        if verdict != "claim":
            return Outcome(mail.state)
        if mail.order_key is not None and not _may_leave(session, email_id, at):
            # An earlier mail of this attendee and event is not out yet: wait
            # (``retrying``, so the stalled-mail producer finds it if its
            # message is lost), no attempt counted.
            mail.state = "retrying"
            mail.updated_at = now()
            return Outcome("blocked", mail.attempts)
        claimed = claim(mail, settings, now())
    try:
        message = compose(settings, claimed, now=now())
        send_message(SmtpTarget.from_url(settings.smtp_url), message)
    except (TransientMailError, PermanentMailError, *UNRENDERABLE) as exc:
        state = state_after(exc, claimed.attempts, settings, last_attempt=last_attempt)
        record_outcome(factory, email_id, state=state, error=str(exc), now=now())
        return Outcome(state, claimed.attempts, str(exc))
    record_outcome(factory, email_id, state="sent", error=None, now=now())
    return Outcome("sent", claimed.attempts)


def _event_of(context: dict[str, Any]) -> dict[str, Any] | None:
    shown = context.get("event")
    if not isinstance(shown, dict):
        return None
    return {"id": shown.get("id"), "ref": shown.get("ref"), "name": shown.get("name")}


def _verdict(session: Session, email_id: uuid.UUID, cutoff: datetime, now: datetime) -> str:
    """``claim``, ``expire`` or ``leave`` (held by another sender, or done):
    claimable_before decides, as it does for a run's claims and the requeue."""
    decide = case(
        (claimable_before(cutoff, now, states=RETRY_CLAIMS), "claim"),
        (expirable_before(cutoff, now), "expire"),
        else_="leave",
    )
    return str(session.scalar(select(decide).where(EmailMessage.id == email_id)))


def _may_leave(session: Session, email_id: uuid.UUID, now: datetime) -> bool:
    query = select(EmailMessage.id).where(EmailMessage.id == email_id, in_order(now))
    return session.scalar(query) is not None


def record_outcome(
    factory: sessionmaker[Session],
    email_id: uuid.UUID,
    *,
    state: str,
    error: str | None,
    now: datetime,
) -> None:
    with factory() as session, session.begin():
        mail = session.get(EmailMessage, email_id, with_for_update=True)
        assert mail is not None
        mail.state = state
        mail.last_error = error
        mail.updated_at = now
        if state == "sent":
            mail.sent_at = now
        if state == "failed":
            # In this transaction: the failure and its webhook commit together.
            record_mail_failed(
                session,
                organisation_id=mail.organisation_id,
                data=mail_data(
                    mail_id=mail.id,
                    template=mail.template,
                    to_address=mail.to_address,
                    error=error,
                    attempts=mail.attempts,
                    job_id=mail.job_id,
                    event=_event_of(mail.context),
                ),
                now=now,
            )
        written = take_written(session)
    dispatch_written(factory, get_broker(), written, now=now)
    log = logger.info if state == "sent" else logger.warning
    log("mail %s", state, extra={"email_id": str(email_id), "state": state, "error": error})
