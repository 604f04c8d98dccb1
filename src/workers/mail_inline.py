"""A few placements' mails, sent by the worker thread that committed them.

At steady traffic a group of enroll jobs places one or two people. Its
``send_placement_mails`` message would then wait in the mail queue for a
worker's next fetch, and pay the enqueue, the fetch and the ack, before the
first byte of the confirmation goes out. A message naming at most
``mail_inline_max`` placements is instead handled where it was written, right
after the commit: ``send_placement_batch`` runs as the actor would run it (the
same mail rows, claims, ledger, order rule and this thread's kept SMTP
connection), and the outbox row is marked done without being sent.

Nothing is lost or doubled for it; the outbox row is the same safety net:

- a crash before or during the send leaves the row unsent, so the relay
  sends the message after its grace period, and the actor sends what is
  still ``queued`` (the ledger's one mail in doubt per sender, as ever);
- a mail the server did not take (unreachable, or a 4xx) is ``retrying``
  and handed to ``send_email`` with its backoff, as the actor does; and an
  error out of the run (the database, the server lost twice in a row) hands
  the message itself to the mail queue. Either way this process then stops
  sending inline for ``PAUSE_SECONDS``, so an SMTP outage costs a job
  thread one try, not one a group;
- a row not marked done (the database gone at that moment) is sent by the
  relay, and the actor finds nothing left to send.

A bigger message (a bulk chunk, a hot event's group) goes through the queue,
where any free thread takes it and a job thread is not held up.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime

import dramatiq
from sqlalchemy.orm import Session, sessionmaker

from rollcall.config.settings import Settings
from rollcall.domain.jobs.actor_names import SEND_PLACEMENT_MAILS
from rollcall.domain.jobs.outbox import WrittenMessage
from rollcall.messaging.outbox import mark_done_unsent
from rollcall.workers.mail_run import send_placement_batch

logger = logging.getLogger("rollcall.mail")

#: After a failed inline send, this process sends through the queue alone for this long.
PAUSE_SECONDS = 30.0

_paused_until = 0.0
_lock = threading.Lock()


def _small(message: WrittenMessage, settings: Settings) -> bool:
    return (
        message.actor == SEND_PLACEMENT_MAILS
        and len(message.args) == 1
        and len(message.args[0]) <= settings.mail_inline_max
    )


def _paused() -> bool:
    return time.monotonic() < _paused_until


def _pause() -> None:
    global _paused_until
    with _lock:
        _paused_until = time.monotonic() + PAUSE_SECONDS


def resume() -> None:
    """Lift a pause at once (tests)."""
    global _paused_until
    with _lock:
        _paused_until = 0.0


def inline_or_queue(
    written: Sequence[WrittenMessage], settings: Settings
) -> tuple[list[WrittenMessage], list[WrittenMessage]]:
    """(messages to send here, messages for the broker), in the order written."""
    if settings.mail_inline_max == 0 or _paused():
        return [], list(written)
    here = [message for message in written if _small(message, settings)]
    return here, [message for message in written if message not in here]


def send_here(
    factory: sessionmaker[Session],
    settings: Settings,
    broker: dramatiq.Broker,
    messages: Sequence[WrittenMessage],
    *,
    now: Callable[[], datetime],
) -> list[WrittenMessage]:
    """Send these placement messages' mails on this thread; returns those that
    failed, for the broker (the caller dispatches them)."""
    left: list[WrittenMessage] = []
    for message in messages:
        if _paused():
            left.append(message)
            continue
        try:
            report = send_placement_batch(factory, settings, broker, message.args[0], now=now)
        except Exception:
            logger.warning(
                "placement mails not sent inline; handed to the mail queue, and inline"
                " sending paused for %ds",
                PAUSE_SECONDS,
                exc_info=True,
            )
            _pause()
            left.append(message)
            continue
        if report.retrying:
            logger.warning(
                "%d placement mail(s) not taken by the server, retried by send_email;"
                " inline sending paused for %ds",
                report.retrying,
                PAUSE_SECONDS,
            )
            _pause()
        mark_done_unsent(factory, [message.id], now())
    return left
