"""A web process's cache of the API keys it authenticated, by key hash.

An entry is what a request needs of its key (``keys.KnownKey``), filled from
the database under an *epoch*: an opaque value that every change to a key
replaces (``messaging.key_epoch``, read once per request). An entry is used
only while the epoch read for the request is the one it was filled under, and
for ``ttl`` at most, a bound for a change whose new epoch was never written.
Nothing here reads Redis or the clock: the epoch and ``now`` are the caller's.
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rollcall.domain.access.keys import KnownKey

#: Keys held at most; a process serving more forgets the oldest first.
MAX_ENTRIES = 10_000


@dataclass(frozen=True)
class _Entry:
    key: KnownKey
    epoch: str
    filled_at: datetime


class KeyCache:
    """Thread-safe: the routes' threadpool shares one per process."""

    def __init__(self, *, ttl: timedelta, max_entries: int = MAX_ENTRIES) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def get(self, key_hash: str, *, epoch: str, now: datetime) -> KnownKey | None:
        """The key filled under ``epoch`` less than ``ttl`` before ``now``, else None."""
        with self._lock:
            entry = self._entries.get(key_hash)
        if (
            entry is None
            or entry.epoch != epoch
            or not timedelta(0) <= now - entry.filled_at < self.ttl
        ):
            return None
        return entry.key

    def put(self, key: KnownKey, *, epoch: str, now: datetime) -> None:
        with self._lock:
            self._entries.pop(key.key_hash, None)
            while len(self._entries) >= self.max_entries:
                del self._entries[next(iter(self._entries))]
            self._entries[key.key_hash] = _Entry(key, epoch, now)

    def note_use(self, key: KnownKey, *, now: datetime) -> None:
        """Remember ``now`` as the key's last use (``keys.note_use`` writes it
        to the row), so this process tries that write once a minute."""
        with self._lock:
            entry = self._entries.get(key.key_hash)
            if entry is not None:
                used = dataclasses.replace(entry.key, last_used_at=now)
                self._entries[key.key_hash] = dataclasses.replace(entry, key=used)
