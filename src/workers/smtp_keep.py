"""A worker thread's SMTP connection, kept between the mail messages it runs.

Each set-wise mail message (a group of enroll jobs' confirmations, a bulk
chunk's, a reminder run) used to open its own event loop and SMTP
connection: connect, greeting, EHLO and QUIT are three of a single mail's
seven round trips to the server. A thread now keeps one asyncio Runner and
one ``SmtpConnection`` per SMTP target, and reuses the connection while it
has been idle for at most ``SMTP_KEEP_ALIVE_SECONDS`` (0: a connection per
message, as before).

Nothing is sent twice for it. A connection the server closed while it sat
idle is seen as closed before the next mail (``SmtpConnection.send`` lets
the loop read the server's goodbye first) and a new one is opened; one that
breaks during a send is the case every connection already had (the mail is
``retrying``, sent again later, see workers.mail_run).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import dramatiq

from rollcall.config.smtp_target import SmtpTarget
from rollcall.workers.smtp import SmtpConnection

T = TypeVar("T")

logger = logging.getLogger("rollcall.mail")


class KeptSmtp:
    """One thread's event loop and SMTP connection to one target."""

    def __init__(
        self,
        target: SmtpTarget,
        keep_alive: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.target = target
        self.keep_alive = keep_alive
        self.clock = clock
        self.runner = asyncio.Runner()
        self.connection = SmtpConnection(target)
        self._idle_since: float | None = None

    def run(self, work: Callable[[SmtpConnection], Coroutine[Any, Any, T]]) -> T:
        """Run ``work`` on this thread's loop with the kept connection (closed
        first if it has been idle too long). After a failure the connection
        and the loop are dropped, not reused: the SMTP conversation may have
        stopped mid-transaction (a time limit, a database error)."""
        idle = self._idle_since
        if idle is not None and self.clock() - idle > self.keep_alive:
            self.runner.run(self.connection.close())
        try:
            result = self.runner.run(work(self.connection))
        except BaseException:
            self._discard()
            raise
        if self.keep_alive <= 0:
            self.runner.run(self.connection.close())
        self._idle_since = self.clock()
        return result

    def _discard(self) -> None:
        self.connection.drop()
        try:
            self.runner.close()
        except Exception:
            logger.warning("could not close a mail sender's event loop", exc_info=True)
        self.runner = asyncio.Runner()
        self.connection = SmtpConnection(self.target)
        self._idle_since = None

    def close(self) -> None:
        """QUIT the connection if it is open, and close the loop."""
        try:
            self.runner.run(self.connection.close())
        finally:
            self.runner.close()


_local = threading.local()


def kept_smtp(target: SmtpTarget, keep_alive: float) -> KeptSmtp:
    """This thread's kept connection to ``target``; one to another target
    (settings changed, as in tests) is closed and replaced."""
    kept: KeptSmtp | None = getattr(_local, "kept", None)
    if kept is not None and kept.target == target:
        kept.keep_alive = keep_alive
        return kept
    if kept is not None:
        kept.close()
    _local.kept = kept = KeptSmtp(target, keep_alive)
    return kept


def close_kept_smtp() -> None:
    """Close this thread's kept connection, if any (a worker thread's end)."""
    kept: KeptSmtp | None = getattr(_local, "kept", None)
    _local.kept = None
    if kept is not None:
        kept.close()


class ClosesKeptSmtp(dramatiq.Middleware):
    """A worker thread says QUIT on its kept connection before it stops."""

    def before_worker_thread_shutdown(self, broker: dramatiq.Broker, thread: Any) -> None:
        close_kept_smtp()
