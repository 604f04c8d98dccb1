"""Marking sent outbox rows sent, concurrent senders' marks in one UPDATE.

Every 202 and every message a worker sends ends with the mark that tells the
relay its row went out (messaging.outbox). Alone, a sender writes its own
mark, as it always did: the same round trip before it returns. Under load,
while one sender's UPDATE runs, the others add their ids and return at once;
when its statement is done the running sender (the leader) writes everything
that was added meanwhile, in one UPDATE, and repeats until nothing is left.
It is group commit for the marks: as many statements as the database can
answer, not one a message (README, Benchmarks: bench_intake).

Nothing is weaker than a mark written late: the message is already in the
broker before its id is added. A mark that is never written (the process
died with ids pending, or the database refused the UPDATE) leaves its row to
the relay, which sends it again after its grace period, and every actor
applies its job once: the same as a crash between the send and the mark.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime

from rollcall.models.db import is_database_unavailable

logger = logging.getLogger("rollcall.outbox")

#: Ids written by one UPDATE at most; more wait for the leader's next round.
MARKS_MAX = 1000

Write = Callable[[list[uuid.UUID], datetime], None]


class SentMarks:
    """The marks of one database's outbox; ``mark`` is safe to call from any
    thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[uuid.UUID] = []
        self._latest: datetime | None = None
        self._leading = False
        #: UPDATEs written, for the tests that count them.
        self.statements = 0

    def mark(self, ids: Sequence[uuid.UUID], now: datetime, write: Write) -> None:
        """Mark ``ids`` sent at ``now``: written before this returns, or by
        the sender whose UPDATE is running (within its next statement).
        ``write`` is one UPDATE of ids (any caller's does: they are of the
        same database); the latest ``now`` pending is every one's."""
        if not ids:
            return
        with self._lock:
            self._pending.extend(ids)
            self._latest = now if self._latest is None else max(self._latest, now)
            if self._leading:
                return
            self._leading = True
        self._lead(write)

    def _lead(self, write: Write) -> None:
        try:
            while self._next_round(write):
                pass
        except BaseException:
            with self._lock:
                self._leading = False
            raise

    def _next_round(self, write: Write) -> bool:
        """Write what is pending; False once nothing was (no longer leading)."""
        with self._lock:
            batch = self._pending[:MARKS_MAX]
            del self._pending[:MARKS_MAX]
            now = self._latest
            if not self._pending:
                self._latest = None
            if not batch or now is None:
                # Under the lock: a sender adding ids after this sees no
                # leader, and leads itself.
                self._leading = False
                return False
        try:
            write(batch, now)
            self.statements += 1
        except Exception as error:
            # The rows stay unsent for the relay (sent again, applied once).
            if is_database_unavailable(error):
                logger.warning(
                    "database unavailable; %d sent outbox row(s) left unmarked", len(batch)
                )
            else:
                logger.exception("could not mark %d sent outbox row(s)", len(batch))
        return True
