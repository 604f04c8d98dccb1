"""The one wait of the suite: poll a condition until it holds (never a bare
sleep where a condition can be awaited)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def wait_until(
    condition: Callable[[], T],
    *,
    timeout: float,
    what: str,
    every: float = 0.1,
    meanwhile: Callable[[], object] | None = None,
    log: Path | Callable[[], str] | None = None,
    ignoring: tuple[type[BaseException], ...] = (),
) -> T:
    """Poll ``condition`` every ``every`` seconds until it returns something
    true, and return that. ``meanwhile`` runs between polls (a scheduler tick,
    say). After ``timeout`` seconds the test fails, saying ``what`` it waited
    for, with the tail of ``log`` (a file, or a function giving text) if given.
    A poll that raises one of ``ignoring`` (a server still starting) counts as
    not yet."""
    deadline = time.monotonic() + timeout
    while not (found := _poll(condition, ignoring)):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}{_tail(log)}")
        if meanwhile is not None:
            meanwhile()
        time.sleep(every)
    return found


def _poll(condition: Callable[[], T], ignoring: tuple[type[BaseException], ...]) -> T | None:
    try:
        return condition()
    except ignoring:
        return None


def _tail(log: Path | Callable[[], str] | None, chars: int = 3000) -> str:
    if log is None:
        return ""
    if isinstance(log, Path):
        text = log.read_text(errors="replace") if log.exists() else ""
    else:
        text = log()
    return f"\n--- log tail ---\n{text[-chars:]}"
