"""The only place that reads the wall clock; edges call it and pass ``now`` down."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
