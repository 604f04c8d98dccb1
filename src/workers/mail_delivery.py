"""Delivering one EmailMessage row: claim, render, send, record the outcome."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from models import EmailMessage
from rollcall.settings import Settings
from workers.mail_render import render_email
from workers.smtp import (
    PermanentMailError,
    SmtpTarget,
    TransientMailError,
    build_message,
    send_message,
)

logger = logging.getLogger("rollcall.mail")


def deliver_email(
    factory: sessionmaker[Session],
    settings: Settings,
    email_id: uuid.UUID,
    *,
    now: Callable[[], datetime],
    last_attempt: bool,
) -> str:
    """Send one mail at most once per call; returns its new state.

    A sent or failed mail is left alone (redelivery is safe). A transient SMTP
    failure marks it ``retrying`` and re-raises TransientMailError so the actor
    retries, unless this was the last attempt, which marks it ``failed``.
    """
    with factory() as session, session.begin():
        mail = session.get(EmailMessage, email_id, with_for_update=True)
        if mail is None or mail.state in ("sent", "failed"):
            return mail.state if mail else "missing"
        mail.state = "sending"
        mail.attempts += 1
        if mail.message_id is None:
            domain = settings.mail_from.rpartition("@")[2].rstrip(">") or "rollcall.localhost"
            mail.message_id = f"<{mail.id}@{domain}>"
        snapshot = (
            mail.template,
            dict(mail.context),
            mail.to_address,
            mail.to_name,
            mail.message_id,
        )
    template, context, to_address, to_name, message_id = snapshot
    try:
        rendered = render_email(settings.templates_dir, template, context)
        message = build_message(
            rendered,
            sender=settings.mail_from,
            to_address=to_address,
            to_name=to_name,
            message_id=message_id,
        )
        send_message(SmtpTarget.from_url(settings.smtp_url), message)
    except TransientMailError as exc:
        state = "failed" if last_attempt else "retrying"
        _record(factory, email_id, state=state, error=str(exc), now=now())
        if state == "retrying":
            raise
        return state
    except (PermanentMailError, ValueError, LookupError) as exc:
        # ValueError/LookupError: a header or template that can never render.
        _record(factory, email_id, state="failed", error=str(exc), now=now())
        return "failed"
    _record(factory, email_id, state="sent", error=None, now=now())
    return "sent"


def _record(
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
        if state == "sent":
            mail.sent_at = now
    log = logger.info if state == "sent" else logger.warning
    log("mail %s", state, extra={"email_id": str(email_id), "state": state, "error": error})
