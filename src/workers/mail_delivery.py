"""Delivering one EmailMessage row: claim, render, send, record the outcome.

States: ``queued`` -> ``sending`` -> ``sent`` | ``retrying`` | ``failed``.
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
from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.orm import Session, aliased, sessionmaker

from rollcall.config.settings import Settings
from rollcall.config.smtp_target import SmtpTarget
from rollcall.models import EmailMessage, Enrollment
from rollcall.models.mail import UNSENT_STATES
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


def claimable_before(cutoff: Any) -> ColumnElement[bool]:
    """Mail a run may claim: queued, or sending with its lease taken before
    ``cutoff`` (a datetime, or a bind parameter for a prepared statement)."""
    m = EmailMessage
    return or_(m.state == "queued", and_(m.state == "sending", m.updated_at < cutoff))


#: How long a mail waits for the earlier mails of its attendee and event.
ORDER_WAIT_MS = 500


def in_order() -> ColumnElement[bool]:
    """Whether a mail may leave now as far as order goes (correlated to the
    ``email_messages`` row being claimed): it has no order key, or every
    earlier mail of its attendee and event is out, i.e.

    - no mail of theirs with a smaller key is queued, sending or retrying; and
    - no enrollment of theirs in the event was placed set-wise with a smaller
      key whose mail the mail worker has not written yet (``mail_key`` with no
      mail row of that key: domain.enrollment.placement_mails).

    Both are probes of ix_email_messages_order (and ix_enrollments_attendee)
    over the few rows of one attendee. Sent or failed mails hold nothing back.
    """
    m = EmailMessage
    earlier = aliased(EmailMessage)
    placed = aliased(EmailMessage)
    e = Enrollment
    mail_waiting = exists().where(
        earlier.attendee_id == m.attendee_id,
        earlier.event_id == m.event_id,
        earlier.order_key < m.order_key,
        earlier.state.in_(UNSENT_STATES),
    )
    mail_unwritten = exists().where(
        e.attendee_id == m.attendee_id,
        e.event_id == m.event_id,
        e.mail_key < m.order_key,
        ~exists().where(
            placed.attendee_id == e.attendee_id,
            placed.event_id == e.event_id,
            placed.order_key == e.mail_key,
        ),
    )
    return or_(m.order_key.is_(None), and_(~mail_waiting, ~mail_unwritten))


def claimable(settings: Settings, now: datetime) -> ColumnElement[bool]:
    """Mail a run may claim at ``now``: queued, or sending past its lease."""
    return claimable_before(lease_cutoff(settings, now))


def may_claim(mail: EmailMessage, settings: Settings, now: datetime) -> bool:
    """Whether ``send_email`` may claim this mail: waiting, or its lease is over."""
    if mail.state in ("queued", "retrying"):
        return True
    return (
        mail.state == "sending"
        and mail.updated_at is not None
        and mail.updated_at < lease_cutoff(settings, now)
    )


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
        if mail is None or not may_claim(mail, settings, now()):
            return Outcome(mail.state if mail else "missing")
        if mail.order_key is not None and not _may_leave(session, email_id):
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


def _may_leave(session: Session, email_id: uuid.UUID) -> bool:
    query = select(EmailMessage.id).where(EmailMessage.id == email_id, in_order())
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
    log = logger.info if state == "sent" else logger.warning
    log("mail %s", state, extra={"email_id": str(email_id), "state": state, "error": error})
