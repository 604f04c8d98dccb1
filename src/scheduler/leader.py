"""Leadership through a Redis lock: one scheduler produces, others stand by.

The leader holds a lock with a TTL and renews it every few seconds. If it dies
the lock expires and a standby takes over within ``ttl`` seconds. A leader that
fails to renew (it lost the lock) stops producing at once.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid

import redis

logger = logging.getLogger("rollcall.scheduler")

RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""

RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""


class Leadership:
    def __init__(self, client: redis.Redis, key: str, ttl_seconds: float = 30.0) -> None:
        self.client = client
        self.key = key
        self.ttl_ms = int(ttl_seconds * 1000)
        self.identity = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._renew = client.register_script(RENEW)
        self._release = client.register_script(RELEASE)

    def try_acquire(self) -> bool:
        return bool(self.client.set(self.key, self.identity, nx=True, px=self.ttl_ms))

    def renew(self) -> bool:
        return bool(self._renew(keys=[self.key], args=[self.identity, self.ttl_ms]))

    def release(self) -> None:
        try:
            self._release(keys=[self.key], args=[self.identity])
        except redis.RedisError:
            logger.warning("could not release scheduler leadership", exc_info=True)

    def holder(self) -> str | None:
        value = self.client.get(self.key)
        return value.decode() if isinstance(value, bytes) else value
