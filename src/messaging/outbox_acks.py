"""A Dramatiq middleware that marks an outbox row done once its message is.

A message sent from the outbox carries ``OUTBOX_OPTION`` and the row's id as
its message id (messaging.outbox). When the worker is finished with it (the
actor returned, or failed for good: no retry is coming) its id is buffered
and a background thread writes ``done_at`` for the buffer in one UPDATE per
flush, off the actors' path. A message that will be retried is not done: its
retry is in the broker's delay queue, and the row stays for the reconciler in
case the broker loses that.

Losing the buffer in a crash only makes the reconciler send those messages
again; every actor is idempotent, so that costs a no-op delivery.
"""

from __future__ import annotations

import logging
import threading
import uuid
from typing import Any

import dramatiq
from dramatiq.middleware import Middleware
from sqlalchemy import func, update

from rollcall.domain.clock import utcnow
from rollcall.models import OutboxMessage
from rollcall.models.db import DatabaseTimeouts, sessions_for, single_statement
from rollcall.models.sql_lists import among

logger = logging.getLogger("rollcall.outbox")

#: The message option that marks a message as an outbox row's.
OUTBOX_OPTION = "rollcall_outbox"
#: Seconds between flushes; ids this many per UPDATE at most.
FLUSH_EVERY = 0.5
FLUSH_MAX = 1000
#: A database down for long must not grow the buffer without bound: past this
#: the oldest acks are dropped (their messages are sent again, harmlessly).
BUFFER_MAX = 100_000


class OutboxAcks(Middleware):
    def __init__(
        self,
        database_url: str,
        timeouts: DatabaseTimeouts = DatabaseTimeouts(),
        *,
        flush_every: float = FLUSH_EVERY,
    ) -> None:
        self.database_url = database_url
        self.timeouts = timeouts
        self.flush_every = flush_every
        self.buffer: list[uuid.UUID] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None
        self.workers = 0

    # Finished messages -------------------------------------------------------

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: Any,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        # Runs after Retries' hook (this middleware sits before it, and
        # after_* hooks run in reverse): ``failed`` already says "no retry".
        if exception is not None and not message.failed:
            return
        self._finished(message)

    def after_skip_message(self, broker: dramatiq.Broker, message: Any) -> None:
        self._finished(message)

    def _finished(self, message: Any) -> None:
        if not message.options.get(OUTBOX_OPTION):
            return
        try:
            outbox_id = uuid.UUID(message.message_id)
        except ValueError:
            return
        with self.lock:
            self.buffer.append(outbox_id)
            if len(self.buffer) > BUFFER_MAX:
                del self.buffer[: len(self.buffer) - BUFFER_MAX]

    # The flusher ---------------------------------------------------------------

    def after_worker_boot(self, broker: dramatiq.Broker, worker: Any) -> None:
        with self.lock:
            self.workers += 1
            if self.thread is not None:
                return
            self.stopping.clear()
            self.thread = threading.Thread(
                target=self._run, name="rollcall-outbox-acks", daemon=True
            )
            self.thread.start()

    def after_worker_shutdown(self, broker: dramatiq.Broker, worker: Any) -> None:
        with self.lock:
            self.workers -= 1
            thread = self.thread if self.workers <= 0 else None
            if thread is not None:
                self.thread = None
                self.stopping.set()
        if thread is not None:
            thread.join(timeout=30)
            self.flush()

    def _run(self) -> None:
        while not self.stopping.wait(self.flush_every):
            self.flush()

    def flush(self) -> int:
        """Write done_at for the buffered ids; returns how many were written.
        On a database error they stay buffered for the next flush."""
        written = 0
        while True:
            with self.lock:
                ids, self.buffer = self.buffer[:FLUSH_MAX], self.buffer[FLUSH_MAX:]
            if not ids:
                return written
            try:
                now = utcnow()
                factory = sessions_for(self.database_url, self.timeouts)
                with single_statement(factory) as session:
                    dialect = session.get_bind().dialect.name
                    session.execute(
                        update(OutboxMessage)
                        .where(
                            among(dialect, OutboxMessage.id, ids), OutboxMessage.done_at.is_(None)
                        )
                        # Done implies sent: a worker may finish a message
                        # before its sender got to mark it sent.
                        .values(done_at=now, sent_at=func.coalesce(OutboxMessage.sent_at, now))
                        .execution_options(synchronize_session=False)
                    )
            except Exception:
                logger.warning("could not mark %d outbox row(s) done", len(ids), exc_info=True)
                with self.lock:
                    self.buffer[:0] = ids
                return written
            written += len(ids)
