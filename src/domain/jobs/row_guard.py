"""One bad row must not stop the work of every other row (and tenant).

The scheduler's producers go over rows of every organisation: occurrences
due for a reminder, outbox messages, organisations to plan for. A row whose
data the code or the database cannot handle (an event in year 1: its
reminder moment is before the first representable date) is logged, counted
and skipped, and the others are handled. What counts as such a row is
domain.jobs.failure_policy's decision: a transient error (the database went away)
is not the row's fault, so it propagates and fails the whole tick, which the
next tick tries again.

The count goes to whoever collects it (``counting_skips``: the scheduler's
tick wrapper, which publishes it for /metrics); without a collector the
skip is only logged.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass

from sqlalchemy.orm import Session

from rollcall.domain.jobs.failure_policy import describe, failure_decision

logger = logging.getLogger("rollcall.rows")


@dataclass(frozen=True)
class SkippedRow:
    what: str
    error: str


_collector: ContextVar[list[SkippedRow] | None] = ContextVar("skipped_rows", default=None)


@contextmanager
def counting_skips() -> Iterator[list[SkippedRow]]:
    """Collect the rows skipped in this context (this thread's call stack)."""
    skipped: list[SkippedRow] = []
    token = _collector.set(skipped)
    try:
        yield skipped
    finally:
        _collector.reset(token)


def skip_row(what: str, error: Exception) -> None:
    """Log and count ``error`` as the fault of the row ``what``; re-raise it
    when it is not (a transient error: the whole tick fails and is retried)."""
    if failure_decision(error) == "retry":
        raise error
    record_skip(what, error)


def record_skip(what: str, error: Exception) -> None:
    """Log and count a skipped row, whatever the error (for rows that stay
    where they are and are tried again on the next tick anyway)."""
    skipped = SkippedRow(what=what, error=describe(error))
    logger.error(
        "row skipped: %s", what, extra={"row": what, "error": skipped.error}, exc_info=error
    )
    collector = _collector.get()
    if collector is not None:
        collector.append(skipped)


@contextmanager
def each_row(session: Session | None, what: str) -> Iterator[None]:
    """Handle one row: in a savepoint when ``session`` is given, so that a
    failed row leaves the transaction usable for the next; see ``skip_row``."""
    try:
        with session.begin_nested() if session is not None else nullcontext():
            yield
    except Exception as error:
        skip_row(what, error)
