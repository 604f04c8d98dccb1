"""How each scheduler producer is doing, as an operator alerts on it.

The scheduler (another process) records every tick in Redis; the web process
reads it for /metrics and /readyz (messaging.queue_inspect). The state is a
pure decision over what was recorded, so both answer the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

State = Literal["ok", "skipping_rows", "failing", "stale", "never_ran"]
STATES: tuple[State, ...] = ("ok", "skipping_rows", "failing", "stale", "never_ran")

#: A producer whose last good tick is older than this many of its intervals
#: has stopped (no leader, a hung tick): with a 60 s interval, 3 minutes.
STALE_AFTER_INTERVALS = 3


@dataclass(frozen=True)
class ProducerHealth:
    name: str
    #: Seconds between two ticks (as the scheduler runs it), 0 when unknown.
    every_seconds: float = 0
    last_success: datetime | None = None
    last_failure: datetime | None = None
    #: Ticks that raised, and rows skipped, since Redis keeps the counts.
    failures: int = 0
    skipped: int = 0
    #: Rows skipped by the last tick that ran to its end.
    last_skipped: int = 0


def producer_state(health: ProducerHealth, *, now: datetime) -> State:
    """``failing`` when the latest tick raised; ``stale`` when no tick ran to
    its end for STALE_AFTER_INTERVALS intervals; ``skipping_rows`` when the
    last one skipped rows it could not handle; else ``ok``."""
    last_success, last_failure = health.last_success, health.last_failure
    if last_failure is not None and (last_success is None or last_failure >= last_success):
        return "failing"
    if last_success is None:
        return "never_ran"
    if health.every_seconds > 0 and now - last_success > timedelta(
        seconds=health.every_seconds * STALE_AFTER_INTERVALS
    ):
        return "stale"
    if health.last_skipped > 0:
        return "skipping_rows"
    return "ok"
