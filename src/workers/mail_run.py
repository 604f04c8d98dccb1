"""Sending many mails over one reused SMTP connection: a reminder run's, or the
mails of enrollments placed set-wise (``send_placement_batch``).

Per batch: claim up to ``reminder_batch_size`` queued mails of the run
(``sending``, attempts + 1) and commit; send each over the open connection;
record the outcomes in one transaction. A 4xx reply hands that mail to the
``send_email`` actor with exponential backoff; a 5xx reply fails it with the
server's reply kept. When the connection itself cannot be had twice in a row,
the unsent rest of the batch goes back to ``queued`` and the run actor is
retried later (TransientMailError).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import dramatiq
from sqlalchemy import ColumnElement, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from domain.placement_mails import prepare_placement_mails
from domain.reminders import finish_reminder_run, prepare_reminder_run
from models import EmailMessage
from models.sql_lists import among
from rollcall.settings import Settings
from workers.mail_delivery import (
    UNRENDERABLE,
    Claimed,
    compose,
    message_id_for,
    retry_delay_ms,
)
from workers.smtp import (
    ConnectionMailError,
    PermanentMailError,
    SmtpConnection,
    SmtpTarget,
    TransientMailError,
    flatten,
)

logger = logging.getLogger("rollcall.mail")

SEND_EMAIL_ACTOR = "send_email"


@dataclass
class RunReport:
    sent: int = 0
    failed: int = 0
    retrying: int = 0
    requeued: int = 0
    retry_ids: list[tuple[uuid.UUID, int]] = field(default_factory=list)


def send_reminder_run(
    factory: sessionmaker[Session],
    settings: Settings,
    broker: dramatiq.Broker,
    run_id: uuid.UUID,
    *,
    now: Callable[[], datetime],
) -> RunReport:
    """Prepare the run (once) and send its queued mails; idempotent.

    Raises TransientMailError when the SMTP server cannot be reached: the
    mails not yet attempted stay ``queued`` for the retried run.
    """
    report = RunReport()
    with factory() as session, session.begin():
        run = prepare_reminder_run(session, run_id=run_id, now=now())
        if run is None:
            return report
    try:
        which = EmailMessage.run_id == run_id
        asyncio.run(_send_batches(factory, settings, which, report, now=now))
    finally:
        _schedule_retries(broker, settings, report)
    with factory() as session, session.begin():
        finish_reminder_run(session, run_id=run_id, now=now())
    logger.info(
        "reminder run sent",
        extra={
            "run_id": str(run_id),
            "sent": report.sent,
            "failed": report.failed,
            "retrying": report.retrying,
        },
    )
    return report


def send_placement_batch(
    factory: sessionmaker[Session],
    settings: Settings,
    broker: dramatiq.Broker,
    items: list[list[Any]],
    *,
    now: Callable[[], datetime],
) -> RunReport:
    """Write the mails of these placements (once) and send those still queued
    over one SMTP connection, as a run's are: a bulk chunk's or a group of
    enroll jobs' confirmations. Idempotent; raises TransientMailError when the
    server cannot be reached."""
    try:
        with factory() as session, session.begin():
            keys = prepare_placement_mails(session, items, now=now())
    except IntegrityError:
        # The same message delivered twice at once: the other wrote the rows.
        with factory() as session, session.begin():
            keys = prepare_placement_mails(session, items, now=now())
    report = RunReport()
    try:
        # One array parameter on PostgreSQL, not a bind per key in every claim.
        which = among(session.get_bind().dialect.name, EmailMessage.dedupe_key, keys)
        asyncio.run(_send_batches(factory, settings, which, report, now=now))
    finally:
        _schedule_retries(broker, settings, report)
    logger.info(
        "placement mails sent",
        extra={"sent": report.sent, "failed": report.failed, "retrying": report.retrying},
    )
    return report


def _claim_batch(
    factory: sessionmaker[Session],
    settings: Settings,
    which: ColumnElement[bool],
    now: datetime,
) -> list[Claimed]:
    """Mark up to a batch of the ``which`` queued mails ``sending`` (attempt + 1)
    and commit, before any of them is sent. Two statements, not one per row."""
    m = EmailMessage
    with factory() as session, session.begin():
        rows = session.execute(
            select(
                m.id, m.organisation_id, m.template, m.context, m.to_address, m.to_name,
                m.message_id, m.attempts,
            )
            .where(which, m.state == "queued")
            .order_by(m.id)
            .limit(settings.reminder_batch_size)
            .with_for_update(skip_locked=True)
        ).all()  # fmt: skip
        if not rows:
            return []
        claimed = [
            Claimed(
                id=row.id,
                organisation_id=row.organisation_id,
                template=row.template,
                context=dict(row.context),
                to_address=row.to_address,
                to_name=row.to_name,
                message_id=row.message_id or message_id_for(row.id, settings),
                attempts=row.attempts + 1,
            )
            for row in rows
        ]
        # One executemany by primary key (ORM bulk UPDATE), not a flush per row.
        session.execute(
            update(m),
            [
                {
                    "id": mail.id,
                    "state": "sending",
                    "attempts": mail.attempts,
                    "updated_at": now,
                    "message_id": mail.message_id,
                }
                for mail in claimed
            ],
        )
        return claimed


async def _send_batches(
    factory: sessionmaker[Session],
    settings: Settings,
    which: ColumnElement[bool],
    report: RunReport,
    *,
    now: Callable[[], datetime],
) -> None:
    connection = SmtpConnection(SmtpTarget.from_url(settings.smtp_url))
    stamp = now()  # one DTSTAMP per run: the .ics is built once and shared
    loop = asyncio.get_running_loop()
    # A helper thread renders and serialises the batch's messages, ahead of the
    # sender, while the event loop waits for the server's replies: the CPU work
    # hides in the SMTP round trips.
    composer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rollcall-compose")
    try:
        while batch := _claim_batch(factory, settings, which, now()):
            outcomes: dict[uuid.UUID, tuple[str, str | None]] = {}
            broken = 0
            unsent: list[uuid.UUID] = []
            composed = [
                loop.run_in_executor(composer, _compose_or_error, settings, mail, stamp)
                for mail in batch
            ]
            for index, mail in enumerate(batch):
                try:
                    message = await composed[index]
                    if isinstance(message, Exception):
                        raise message
                    await connection.send(message)
                except (PermanentMailError, *UNRENDERABLE) as exc:
                    outcomes[mail.id] = ("failed", str(exc))
                except TransientMailError as exc:
                    final = mail.attempts >= settings.mail_max_attempts
                    outcomes[mail.id] = ("failed" if final else "retrying", str(exc))
                    if not final:
                        report.retry_ids.append((mail.id, mail.attempts))
                    if isinstance(exc, ConnectionMailError):
                        broken += 1
                        if broken >= 2:
                            unsent = [m.id for m in batch[index + 1 :]]
                            break
                    continue
                else:
                    outcomes[mail.id] = ("sent", None)
                broken = 0
            if unsent:
                for pending in composed[index + 1 :]:
                    pending.cancel()
            _record_batch(factory, outcomes, unsent, report, now())
            if unsent:
                raise TransientMailError("SMTP server unreachable; the batch will be retried")
    finally:
        composer.shutdown(wait=True, cancel_futures=True)
        await connection.close()


def _compose_or_error(settings: Settings, mail: Claimed, stamp: datetime) -> Any:
    """compose and serialise, with an unrenderable mail's error returned rather
    than raised (the sender fails that one mail and goes on)."""
    try:
        return flatten(compose(settings, mail, now=stamp))
    except UNRENDERABLE as exc:
        return exc


def _record_batch(
    factory: sessionmaker[Session],
    outcomes: dict[uuid.UUID, tuple[str, str | None]],
    unsent: list[uuid.UUID],
    report: RunReport,
    now: datetime,
) -> None:
    sent = [mail_id for mail_id, (state, _e) in outcomes.items() if state == "sent"]
    with factory() as session, session.begin():
        if sent:
            session.execute(
                update(EmailMessage)
                .where(EmailMessage.id.in_(sent))
                .values(state="sent", sent_at=now, updated_at=now, last_error=None)
            )
        for mail_id, (state, error) in outcomes.items():
            if state != "sent":
                session.execute(
                    update(EmailMessage)
                    .where(EmailMessage.id == mail_id)
                    .values(state=state, last_error=error, updated_at=now)
                )
        if unsent:
            # Claimed but never attempted: back in the queue, the attempt uncounted.
            session.execute(
                update(EmailMessage)
                .where(EmailMessage.id.in_(unsent))
                .values(state="queued", attempts=EmailMessage.attempts - 1, updated_at=now)
            )
    report.sent += len(sent)
    report.failed += sum(1 for state, _e in outcomes.values() if state == "failed")
    report.retrying += sum(1 for state, _e in outcomes.values() if state == "retrying")
    report.requeued += len(unsent)


def _schedule_retries(broker: dramatiq.Broker, settings: Settings, report: RunReport) -> None:
    """Hand each transiently refused mail to send_email, delayed by its backoff.

    If the broker is down the mail stays ``retrying`` and the scheduler's
    stalled-mail producer enqueues it later."""
    if not report.retry_ids:
        return
    actor = broker.get_actor(SEND_EMAIL_ACTOR)
    for mail_id, attempts in report.retry_ids:
        try:
            message = actor.message_with_options(args=(str(mail_id),))
            broker.enqueue(message, delay=retry_delay_ms(settings, attempts))
        except Exception:
            logger.warning("could not enqueue the retry of mail %s", mail_id, exc_info=True)
    report.retry_ids.clear()
