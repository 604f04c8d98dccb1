"""Sending many mails over one reused SMTP connection (the thread's kept one,
workers.smtp_keep): a reminder run's, or the mails of enrollments placed
set-wise (``send_placement_batch``).

The mails are read a window at a time (``reminder_batch_size``, unlocked; a
window shorter than that is the last, so a message of a few mails costs one
read) and, when a window has more than one, rendered ahead in a helper
thread. Each is claimed on its own just before it is sent (``sending``, attempts + 1, a lease
from ``updated_at``), in the transaction that records the previous mail's
outcome. So a sender holds at most one mail it has not recorded: a crash
affects that one mail (sent again once its lease is over, so it may arrive
twice, never not at all), and every mail not yet claimed is still ``queued``
for the retried run. Mails ``sending``
past their lease are claimed like queued ones. A mail whose send deadline
(``not_after``) comes before it is claimed is never sent: it ends ``expired``
when the run ends (domain.ops.mail_claims.claimable_before).

A mail whose attendee and event have an earlier mail not out yet is put
aside (``retrying``, domain.ops.mail_claims.in_order) and handed to
``send_email`` after ``ORDER_WAIT_MS``. A 4xx reply hands that mail to the
``send_email`` actor with exponential backoff; a 5xx reply fails it with the
server's reply kept. When the connection itself cannot be had twice in a
row, the run actor is retried later (TransientMailError); the rest is still
``queued``.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

import dramatiq
from sqlalchemy import Select, bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from rollcall.config.settings import Settings
from rollcall.config.smtp_target import SmtpTarget
from rollcall.domain.enrollment.placement_mails import prepare_placement_mails
from rollcall.domain.jobs import actor_names
from rollcall.domain.ops.mail_claims import claimable_before, expire_mail
from rollcall.domain.reminders.runs import finish_reminder_run, prepare_reminder_run
from rollcall.models import EmailMessage
from rollcall.models.sql_lists import among_parameter
from rollcall.workers.mail_delivery import (
    ORDER_WAIT_MS,
    UNRENDERABLE,
    Claimed,
    compose,
    lease_cutoff,
    message_id_for,
    record_outcome,
    retry_delay_ms,
    state_after,
)
from rollcall.workers.mail_ledger import CLAIM_BLOCKED, Ledger
from rollcall.workers.smtp import (
    ConnectionMailError,
    PermanentMailError,
    SmtpConnection,
    TransientMailError,
    flatten,
)
from rollcall.workers.smtp_keep import kept_smtp

logger = logging.getLogger("rollcall.mail")


@dataclass
class RunReport:
    sent: int = 0
    failed: int = 0
    retrying: int = 0
    expired: int = 0
    #: (mail id, delay in ms) for send_email: refused transiently, or put aside
    #: until an earlier mail of its attendee and event is out.
    retry_ids: list[tuple[uuid.UUID, int]] = field(default_factory=list)

    def count(self, state: str) -> None:
        if state in ("sent", "failed", "retrying"):
            setattr(self, state, getattr(self, state) + 1)


@dataclass(frozen=True)
class Mails:
    """Which mails a sender works through: a reminder run's (``run_id``), or
    those of these dedupe keys (a placement message's)."""

    run_id: uuid.UUID | None = None
    dedupe_keys: tuple[str, ...] = ()

    def parameters(self) -> dict[str, Any]:
        if self.run_id is not None:
            return {"run_id": self.run_id}
        return {"keys": list(self.dedupe_keys)}


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
        _send_kept(factory, settings, Mails(run_id=run_id), report, now=now)
    finally:
        _schedule_retries(broker, settings, report)
    with factory() as session, session.begin():
        # Mails whose send deadline came during the run (a long run, a slow
        # server) were not claimed: they end expired, and the run can finish.
        at = now()
        which = EmailMessage.run_id == run_id
        report.expired = len(expire_mail(session, which, cutoff=lease_cutoff(settings, at), now=at))
        finish_reminder_run(session, run_id=run_id, now=at)
    logger.info(
        "reminder run sent",
        extra={
            "run_id": str(run_id),
            "sent": report.sent,
            "failed": report.failed,
            "retrying": report.retrying,
            "expired": report.expired,
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
        _send_kept(factory, settings, Mails(dedupe_keys=tuple(keys)), report, now=now)
    finally:
        _schedule_retries(broker, settings, report)
    logger.info(
        "placement mails sent",
        extra={"sent": report.sent, "failed": report.failed, "retrying": report.retrying},
    )
    return report


def _window(
    factory: sessionmaker[Session],
    settings: Settings,
    mails: Mails,
    now: datetime,
) -> list[Claimed]:
    """The next ``reminder_batch_size`` of these mails that may be claimed,
    read without a lock: each is claimed on its own before it is sent."""
    with factory() as session:
        query = _window_query(
            session.get_bind().dialect.name,
            by_run=mails.run_id is not None,
            size=settings.reminder_batch_size,
        )
        parameters = {
            **mails.parameters(),
            "lease_cutoff": lease_cutoff(settings, now),
            "now": now,
        }
        rows = session.execute(query, parameters).all()
    return [
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


@lru_cache(maxsize=8)
def _window_query(dialect: str, *, by_run: bool, size: int) -> Select[Any]:
    """The window's read, built once (issue 19: a select and its cache key
    built for each window cost about as much as running it); the mails'
    run or keys, the lease's cutoff and the moment are parameters."""
    m = EmailMessage
    which = (
        m.run_id == bindparam("run_id", type_=m.run_id.type)
        if by_run
        else among_parameter(dialect, m.dedupe_key, "keys")
    )
    now = bindparam("now", type_=m.updated_at.type)
    cutoff = bindparam("lease_cutoff", type_=m.updated_at.type)
    return (
        select(
            m.id, m.organisation_id, m.template, m.context, m.to_address, m.to_name,
            m.message_id, m.attempts,
        )
        .where(which, claimable_before(cutoff, now))
        .order_by(m.id)
        .limit(size)
    )  # fmt: skip


#: A sent mail's outcome: (id, state, error), recorded with the next claim.
Done = tuple[uuid.UUID, str, str | None]


def _record_and_claim(
    ledger: Ledger, done: Done | None, mail: Claimed | None, report: RunReport, now: datetime
) -> int | None:
    """Record the last mail's outcome and claim the next one, in one statement
    (workers.mail_ledger). Returns the claimed mail's attempt number, or None
    when it may not be claimed (another sender holds it)."""
    if done is not None and done[1] == "failed":
        # Rare, and it causes a webhook (mail.failed): recorded with it in one
        # transaction (workers.mail_delivery.record_outcome), off the fast path.
        record_outcome(ledger.factory, done[0], state="failed", error=done[2], now=now)
        report.count("failed")
        done = None
    attempts = ledger.step(
        done=done,
        next_id=mail.id if mail is not None else None,
        next_message_id=mail.message_id if mail is not None else None,
        now=now,
    )
    if done is not None:
        report.count(done[1])
    return attempts


def _send_kept(
    factory: sessionmaker[Session],
    settings: Settings,
    mails: Mails,
    report: RunReport,
    *,
    now: Callable[[], datetime],
) -> None:
    """_send_batches on this thread's kept loop and SMTP connection (workers.smtp_keep)."""
    kept = kept_smtp(SmtpTarget.from_url(settings.smtp_url), settings.smtp_keep_alive_seconds)
    kept.run(
        lambda connection: _send_batches(factory, settings, mails, report, connection, now=now)
    )


async def _send_batches(
    factory: sessionmaker[Session],
    settings: Settings,
    mails: Mails,
    report: RunReport,
    connection: SmtpConnection,
    *,
    now: Callable[[], datetime],
) -> None:
    stamp = now()  # one DTSTAMP per run: the .ics is built once and shared
    loop = asyncio.get_running_loop()
    # A helper thread renders and serialises the window's messages, ahead of
    # the sender, while the event loop waits for the server's replies: the CPU
    # work hides in the SMTP round trips.
    # (Not for a window of one mail, such as a single confirmation: nothing to
    # compose ahead of, and a thread started and handed to costs more.)
    composer: ThreadPoolExecutor | None = None
    ledger = Ledger(factory, settings)
    done: Done | None = None
    try:
        # A window shorter than a full one was the last: every mail of these
        # still claimable was in it (no read more just to find none).
        full = True
        while full and (window := _window(factory, settings, mails, now())):
            full = len(window) == settings.reminder_batch_size
            if composer is None and len(window) > 1:
                composer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rollcall-compose")
            composed = [_composing(loop, composer, settings, mail, stamp) for mail in window]
            broken = 0
            for index, mail in enumerate(window):
                attempts = _record_and_claim(ledger, done, mail, report, now())
                done = None
                if attempts is None or attempts == CLAIM_BLOCKED:
                    composed[index].cancel()
                    if attempts == CLAIM_BLOCKED:
                        report.retry_ids.append((mail.id, ORDER_WAIT_MS))
                    continue
                state, error, disconnected = await _send_one(
                    connection, composed[index], attempts, settings
                )
                done = (mail.id, state, error)
                if state == "retrying":
                    report.retry_ids.append((mail.id, retry_delay_ms(settings, attempts)))
                if disconnected:
                    broken += 1
                    if broken >= 2:
                        # The rest were never claimed: they stay queued for the retried run.
                        raise TransientMailError("SMTP server unreachable; the run will be retried")
                elif state != "retrying":
                    broken = 0
    finally:
        if done is not None:
            try:
                _record_and_claim(ledger, done, None, report, now())
            except Exception:
                # Only this mail is in doubt: its lease expires, it is sent again.
                logger.exception("could not record mail %s", done[0])
        ledger.close()
        if composer is not None:
            composer.shutdown(wait=True, cancel_futures=True)


async def _send_one(
    connection: SmtpConnection, composed: Any, attempts: int, settings: Settings
) -> tuple[str, str | None, bool]:
    """Send one composed message on its ``attempts``-th attempt: its state and
    error for the record, and whether the connection itself failed."""
    try:
        message = await composed
        if isinstance(message, Exception):
            raise message
        await connection.send(message)
    except (TransientMailError, PermanentMailError, *UNRENDERABLE) as exc:
        state = state_after(exc, attempts, settings)
        return state, str(exc), isinstance(exc, ConnectionMailError)
    return "sent", None, False


def _composing(
    loop: asyncio.AbstractEventLoop,
    composer: ThreadPoolExecutor | None,
    settings: Settings,
    mail: Claimed,
    stamp: datetime,
) -> asyncio.Future[Any]:
    """The mail being composed by the helper thread, or, without one, composed
    here and now."""
    if composer is not None:
        return loop.run_in_executor(composer, _compose_or_error, settings, mail, stamp)
    done: asyncio.Future[Any] = loop.create_future()
    done.set_result(_compose_or_error(settings, mail, stamp))
    return done


def _compose_or_error(settings: Settings, mail: Claimed, stamp: datetime) -> Any:
    """compose and serialise, with an unrenderable mail's error returned rather
    than raised (the sender fails that one mail and goes on)."""
    try:
        return flatten(compose(settings, mail, now=stamp))
    except UNRENDERABLE as exc:
        return exc


def _schedule_retries(broker: dramatiq.Broker, settings: Settings, report: RunReport) -> None:
    """Hand each transiently refused mail to send_email, delayed by its
    backoff, and each mail put aside for order, delayed by ORDER_WAIT_MS.

    If the broker is down the mail stays ``retrying`` and the scheduler's
    stalled-mail producer enqueues it later."""
    if not report.retry_ids:
        return
    actor = broker.get_actor(actor_names.SEND_EMAIL)
    for mail_id, delay in report.retry_ids:
        try:
            message = actor.message_with_options(args=(str(mail_id),))
            broker.enqueue(message, delay=delay)
        except Exception:
            logger.warning("could not enqueue the retry of mail %s", mail_id, exc_info=True)
    report.retry_ids.clear()
