"""Backoff and what a reply means. Pure: data in, a decision out (table-tested).

A delivery is retried after a non-2xx reply, a timeout or a connection error,
base x 2^(attempts-1) ms later (capped), until it is ``window`` old: with the
defaults (10 s base, 6 h cap, 72 h window) that is about 22 attempts over 3
days. ``410 Gone`` ends it at once and disables its subscription.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

Verdict = Literal["succeeded", "retrying", "failed", "gone"]


@dataclass(frozen=True)
class RetryPolicy:
    base_ms: int
    max_ms: int
    window: timedelta


def retry_delay_ms(policy: RetryPolicy, attempts: int) -> int:
    """The wait after the ``attempts``-th failed attempt."""
    return int(min(policy.base_ms * 2 ** max(attempts - 1, 0), policy.max_ms))


def verdict(
    status_code: int | None,
    *,
    attempts: int,
    created_at: datetime,
    now: datetime,
    policy: RetryPolicy,
) -> Verdict:
    """What a delivery becomes after an attempt answered ``status_code``
    (None: no answer, or a target refused at delivery time)."""
    if status_code is not None and 200 <= status_code < 300:
        return "succeeded"
    if status_code == 410:
        return "gone"
    next_at = now + timedelta(milliseconds=retry_delay_ms(policy, attempts))
    if next_at - created_at > policy.window:
        return "failed"
    return "retrying"


def should_disable(consecutive_failures: int, limit: int) -> bool:
    """Whether a subscription with this many deliveries failed in a row is disabled."""
    return consecutive_failures >= limit
