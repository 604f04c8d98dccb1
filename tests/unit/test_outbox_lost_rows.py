"""The reconciler's choice, as a pure function: the rows it sends again are the
pending ones the broker no longer holds live (tests/component/ and
tests/integration/test_outbox_reconcile_redis.py run it against the brokers)."""

from __future__ import annotations

import uuid

import pytest

from rollcall.messaging.outbox_reconcile import Pending, lost


@pytest.mark.parametrize(
    ("live", "expected"),
    [
        (set(), ["a", "b", "c"]),
        ({"b"}, ["a", "c"]),
        ({"a", "b", "c", "other"}, []),
        (None, ["a", "b", "c"]),  # the broker cannot tell: age alone
    ],
)
def test_lost_rows_are_those_the_broker_does_not_hold(
    live: set[str] | None, expected: list[str]
) -> None:
    ids = {name: uuid.uuid5(uuid.NAMESPACE_URL, name) for name in "abc"}
    pending = [Pending(ids[name], "process_job") for name in "abc"]
    held = None if live is None else {str(ids.get(name, name)) for name in live}
    assert lost(pending, held) == [ids[name] for name in expected]
