"""The API key revocation epoch in Redis, and a web process's cached key lookup.

``{namespace}:api-keys:epoch`` holds a random value that every change to a key
(revoke, rotate, a change of scopes, a deletion) replaces before its commit
and again after it (``changing_api_keys``). A web process reads it with one
``GET`` per request and uses its cached keys (domain.access.key_cache) only
while the value is the one they were filled under, so a revocation holds at
the next request in every process. A request that refilled between the two
replacements filled under the first value, which the second one ends.

Redis restarted empty: the first reader sets a fresh random value (``SET NX``),
which no entry was filled under. Redis unreachable: no epoch, so the request
reads the database (a valid key still works, a revoked one is still refused).
A replacement that failed (Redis unreachable from the revoking process only)
leaves the entries to their TTL, ``API_KEY_CACHE_SECONDS``. ``REDIS_URL=stub://``
or a TTL of 0: no cache, every request reads the database.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import redis
import redis.asyncio
from sqlalchemy.orm import Session

from rollcall.config.settings import Settings
from rollcall.domain.access.key_cache import KeyCache
from rollcall.domain.access.keys import KnownKey, authenticate, cached_key, note_use
from rollcall.messaging.redis_client import LazyRedis

logger = logging.getLogger("rollcall.access")

#: A request waits this long at most for the epoch before it reads the database.
TIMEOUT_SECONDS = 0.5
#: After Redis failed, requests read the database without asking it for this long.
RETRY_AFTER_SECONDS = 1.0


def epoch_key(namespace: str) -> str:
    return f"{namespace}:api-keys:epoch"


class KeyEpoch:
    """The epoch of one Redis; one client per process, made on first use."""

    def __init__(self, settings: Settings) -> None:
        self._url = settings.redis_url
        self.key = epoch_key(settings.redis_namespace)
        self._redis = LazyRedis(self._url, timeout=TIMEOUT_SECONDS)
        #: The async routes' clients, one per event loop (a loop's client
        #: cannot serve another; tests run an app on several loops).
        self._async: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, redis.asyncio.Redis] = (
            weakref.WeakKeyDictionary()
        )
        self._retry_at = 0.0

    @property
    def available(self) -> bool:
        return not self._url.startswith("stub://")

    def current(self) -> str | None:
        """The epoch now; a fresh one if Redis has none; None without Redis."""
        if not self._askable():
            return None
        try:
            client = self._redis.get()
            value = client.get(self.key)
            if value is None:
                client.set(self.key, secrets.token_hex(16), nx=True)
                value = client.get(self.key)
        except redis.RedisError:
            self._unreadable()
            return None
        return _text(value)

    async def current_async(self) -> str | None:
        """``current`` on the event loop (no threadpool hop): the same answers,
        through the running loop's own asyncio client."""
        if not self._askable():
            return None
        try:
            client = self._async_client()
            value = await client.get(self.key)
            if value is None:
                await client.set(self.key, secrets.token_hex(16), nx=True)
                value = await client.get(self.key)
        except redis.RedisError:
            self._unreadable()
            return None
        return _text(value)

    async def aclose(self) -> None:
        """Close the running loop's asyncio client (the app's shutdown)."""
        client = self._async.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()

    def _async_client(self) -> redis.asyncio.Redis:
        loop = asyncio.get_running_loop()
        client = self._async.get(loop)
        if client is None:
            client = self._async[loop] = redis.asyncio.Redis.from_url(
                self._url, socket_connect_timeout=TIMEOUT_SECONDS, socket_timeout=TIMEOUT_SECONDS
            )
        return client

    def _askable(self) -> bool:
        return self.available and time.monotonic() >= self._retry_at

    def _unreadable(self) -> None:
        self._retry_at = time.monotonic() + RETRY_AFTER_SECONDS
        logger.warning("API key epoch unreadable: keys are read from the database")

    def bump(self) -> bool:
        """Replace the epoch: every process's cached keys are stale from now on.
        Returns False (and logs) if Redis could not be told."""
        if not self.available:
            return True
        try:
            self._redis.get().set(self.key, secrets.token_hex(16))
        except redis.RedisError:
            logger.warning(
                "API key epoch not replaced: web processes may serve a changed key "
                "from their cache for up to API_KEY_CACHE_SECONDS",
                exc_info=True,
            )
            return False
        return True


def _text(value: object) -> str | None:
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else str(value)


@contextmanager
def changing_api_keys(epoch: KeyEpoch) -> Iterator[None]:
    """Around a transaction that revokes, rotates, re-scopes or deletes keys:
    the epoch is replaced before it and again after its commit (or rollback)."""
    epoch.bump()
    try:
        yield
    finally:
        epoch.bump()


class ApiKeys:
    """A web process's key lookup: ``domain.access.keys.authenticate`` with the
    process's cache and the epoch read for each request."""

    def __init__(self, settings: Settings) -> None:
        self.epoch = KeyEpoch(settings)
        ttl = timedelta(seconds=settings.api_key_cache_seconds)
        self.cache = KeyCache(ttl=ttl) if self.epoch.available and ttl > timedelta(0) else None

    def authenticate(self, session: Session, plaintext: str | None, *, now: datetime) -> KnownKey:
        epoch = self.epoch.current() if self.cache is not None and plaintext else None
        return authenticate(session, plaintext, now=now, cache=self.cache, epoch=epoch)

    async def cached(self, plaintext: str, *, now: datetime) -> KnownKey | None:
        """The key from this process's cache, the epoch read on the event
        loop, when the request needs nothing else for it (active, its last
        use not due: ``keys.cached_key``); None otherwise, and the caller
        ``authenticate``s in the threadpool as before."""
        if self.cache is None or not plaintext:
            return None
        epoch = await self.epoch.current_async()
        if epoch is None:
            return None
        return cached_key(self.cache, plaintext, epoch=epoch, now=now)

    def note_use(self, session: Session, key: KnownKey, *, now: datetime) -> bool:
        return note_use(session, key, now=now, cache=self.cache)
