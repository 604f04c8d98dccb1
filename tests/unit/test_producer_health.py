"""Each producer's state, as /readyz and /metrics show it: a table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from rollcall.domain.ops.producer_health import ProducerHealth, producer_state

NOW = datetime(2027, 1, 1, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def health(**fields: object) -> ProducerHealth:
    return ProducerHealth(name="produce_reminders", every_seconds=60, **fields)  # type: ignore[arg-type]


TABLE = [
    ("never ran", health(), "never_ran"),
    ("ticked just now", health(last_success=NOW), "ok"),
    ("ticked three intervals ago", health(last_success=NOW - 3 * MINUTE), "ok"),
    ("no tick for longer", health(last_success=NOW - 3 * MINUTE - timedelta(seconds=1)), "stale"),
    ("interval unknown", ProducerHealth("x", last_success=NOW - 60 * MINUTE), "ok"),
    ("skipped rows", health(last_success=NOW, last_skipped=1, skipped=5), "skipping_rows"),
    ("skipped earlier, not now", health(last_success=NOW, skipped=5), "ok"),
    ("failed first", health(last_failure=NOW), "failing"),
    ("failed after a success", health(last_success=NOW - MINUTE, last_failure=NOW), "failing"),
    ("recovered", health(last_success=NOW, last_failure=NOW - MINUTE, failures=3), "ok"),
    (
        "failing beats stale",
        health(last_success=NOW - 60 * MINUTE, last_failure=NOW - 50 * MINUTE),
        "failing",
    ),
]


@pytest.mark.parametrize(("one", "state"), [pytest.param(h, s, id=n) for n, h, s in TABLE])
def test_producer_state(one: ProducerHealth, state: str) -> None:
    assert producer_state(one, now=NOW) == state
