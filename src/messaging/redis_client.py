"""One synchronous Redis client per process and purpose, made on first use."""

from __future__ import annotations

import threading

import redis


class LazyRedis:
    """A client of ``url`` with both timeouts at ``timeout`` seconds, made
    on the first ``get`` (never at import or start: a process that never asks
    Redis never connects), then shared by the process's threads."""

    def __init__(self, url: str, *, timeout: float) -> None:
        self._url = url
        self._timeout = timeout
        self._client: redis.Redis | None = None
        self._lock = threading.Lock()

    def get(self) -> redis.Redis:
        with self._lock:
            if self._client is None:
                self._client = redis.Redis.from_url(
                    self._url, socket_connect_timeout=self._timeout, socket_timeout=self._timeout
                )
            return self._client
