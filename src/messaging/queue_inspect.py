"""Reading and steering Dramatiq's Redis keys: queue depths, workers, dead letters.

Dramatiq's RedisBroker keeps, under its namespace (see dramatiq/brokers/redis/dispatch.lua):
``<q>`` a list of ready message ids, ``<q>.msgs`` a hash id -> message (ready and
fetched), ``<q>.DQ`` / ``<q>.DQ.msgs`` the same for delayed messages, ``<q>.XQ``
a sorted set of dead-lettered ids by time with ``<q>.XQ.msgs``, ``__heartbeats__``
a sorted set of worker ids by last heartbeat, and ``__acks__.<worker>.<q>`` the ids
a worker fetched and has not acknowledged yet. Nothing here needs a running worker.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, cast

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker

from rollcall.domain.ops.producer_health import ProducerHealth

#: Dramatiq's default: a worker silent this long is considered dead.
HEARTBEAT_TIMEOUT_MS = 60_000
QUEUES = ("jobs", "mail", "calendar", "webhooks")
STATES = ("ready", "delayed", "in_progress", "dead")


@dataclass(frozen=True)
class QueueDepth:
    queue: str
    ready: int
    delayed: int
    in_progress: int
    dead: int

    def as_dict(self) -> dict[str, int]:
        return {state: int(getattr(self, state)) for state in STATES}


@dataclass(frozen=True)
class WorkerBeat:
    worker_id: str
    last_seen: datetime
    alive: bool
    in_flight: int


@dataclass(frozen=True)
class DeadLetter:
    queue: str
    redis_id: str
    message_id: str
    actor: str
    args: list[Any]
    error: str
    dead_at: datetime
    retries: int
    raw: dict[str, Any] = field(repr=False)

    @property
    def error_line(self) -> str:
        """The last line of the traceback: the exception and its message."""
        lines = [line for line in self.error.strip().splitlines() if line.strip()]
        return lines[-1] if lines else ""


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _message_id(body: Any) -> str:
    return str(json.loads(body).get("message_id", ""))


class QueueInspector:
    """A read-mostly view of one Dramatiq namespace in Redis."""

    def __init__(self, client: redis.Redis, namespace: str) -> None:
        self.client = client
        self.ns = namespace

    def key(self, name: str) -> str:
        return f"{self.ns}:{name}"

    def depths(self, queues: tuple[str, ...] = QUEUES) -> list[QueueDepth]:
        """Per queue: ready, delayed (incl. fetched but not due), in progress, dead."""
        pipe = self.client.pipeline(transaction=False)
        for queue in queues:
            pipe.llen(self.key(queue))
            pipe.hlen(self.key(f"{queue}.msgs"))
            pipe.hlen(self.key(f"{queue}.DQ.msgs"))
            pipe.zcard(self.key(f"{queue}.XQ"))
        values = pipe.execute()
        result = []
        for index, queue in enumerate(queues):
            ready, stored, delayed, dead = values[index * 4 : index * 4 + 4]
            result.append(
                QueueDepth(queue, int(ready), int(delayed), max(int(stored) - int(ready), 0), dead)
            )
        return result

    def workers(self, queues: tuple[str, ...] = QUEUES) -> list[WorkerBeat]:
        """Every worker with a recent heartbeat, with its fetched-but-unacked count."""
        now_ms = time.time() * 1000
        beats = cast(
            list[tuple[Any, float]],
            self.client.zrange(self.key("__heartbeats__"), 0, -1, withscores=True),
        )
        pipe = self.client.pipeline(transaction=False)
        ids = [_text(member) for member, _score in beats]
        for worker_id in ids:
            for queue in queues:
                pipe.scard(self.key(f"__acks__.{worker_id}.{queue}"))
        counts = pipe.execute() if ids else []
        result = []
        for index, (worker_id, (_member, score)) in enumerate(zip(ids, beats, strict=True)):
            in_flight = sum(counts[index * len(queues) : (index + 1) * len(queues)])
            result.append(
                WorkerBeat(
                    worker_id=worker_id,
                    last_seen=datetime.fromtimestamp(score / 1000, UTC),
                    alive=now_ms - score < HEARTBEAT_TIMEOUT_MS,
                    in_flight=int(in_flight),
                )
            )
        return sorted(result, key=lambda beat: (not beat.alive, beat.worker_id))

    def dead_letters(self, queues: tuple[str, ...] = QUEUES, limit: int = 500) -> list[DeadLetter]:
        """Dead-lettered messages, newest first."""
        letters: list[DeadLetter] = []
        for queue in queues:
            entries = cast(
                list[tuple[Any, float]],
                self.client.zrevrange(self.key(f"{queue}.XQ"), 0, limit - 1, withscores=True),
            )
            self._prune_errors(queue)
            if not entries:
                continue
            ids = [_text(member) for member, _score in entries]
            bodies: list[Any] = self.client.hmget(  # type: ignore[assignment]
                self.key(f"{queue}.XQ.msgs"), ids
            )
            errors: list[Any] = self.client.hmget(  # type: ignore[assignment]
                self.key(f"ops:dead_errors:{queue}"), ids
            )
            for redis_id, (_member, score), body, error in zip(
                ids, entries, bodies, errors, strict=True
            ):
                if body is None:
                    continue
                data = json.loads(body)
                options = data.get("options", {})
                letters.append(
                    DeadLetter(
                        queue=queue,
                        redis_id=redis_id,
                        message_id=str(data.get("message_id", "")),
                        actor=str(data.get("actor_name", "")),
                        args=list(data.get("args", [])),
                        error=_text(error) if error else str(options.get("traceback", "")),
                        dead_at=datetime.fromtimestamp(score / 1000, UTC),
                        retries=int(options.get("retries", 0)),
                        raw=data,
                    )
                )
        letters.sort(key=lambda letter: letter.dead_at, reverse=True)
        return letters[:limit]

    def _prune_errors(self, queue: str) -> None:
        """Forget the errors of messages Dramatiq expired from its dead-letter set."""
        errors_key = self.key(f"ops:dead_errors:{queue}")
        if self.client.hlen(errors_key) <= self.client.zcard(self.key(f"{queue}.XQ")):
            return
        for redis_id in self.client.hkeys(errors_key):
            if self.client.zscore(self.key(f"{queue}.XQ"), redis_id) is None:
                self.client.hdel(errors_key, redis_id)

    def delete_dead_letter(self, queue: str, redis_id: str) -> bool:
        pipe = self.client.pipeline(transaction=True)
        pipe.zrem(self.key(f"{queue}.XQ"), redis_id)
        pipe.hdel(self.key(f"{queue}.XQ.msgs"), redis_id)
        pipe.hdel(self.key(f"ops:dead_errors:{queue}"), redis_id)
        removed, _, _ = pipe.execute()
        return bool(removed)

    def live_message_ids(
        self, queues: Iterable[str], *, now_ms: float, heartbeat_timeout_ms: int
    ) -> set[str]:
        """The message ids the broker will still deliver or has dead-lettered,
        on these queues: ready, delayed, fetched by a live worker, or in the
        dead-letter set. A message only a dead worker holds (silent for longer
        than ``heartbeat_timeout_ms``) is not live: it waits for Dramatiq's
        maintenance, which runs on a random few of all commands.

        Messages are keyed by a per-enqueue id in Redis, not by their message
        id, so this reads every stored message of the queues (HSCAN): its cost
        is the queues' backlog. A message moving between the delay queue and
        its queue while they are read may be missed; the caller's duplicate
        is harmless.
        """
        queues = list(queues)
        dead = [
            _text(worker)
            for worker in self.client.zrangebyscore(
                self.key("__heartbeats__"), 0, now_ms - heartbeat_timeout_ms
            )
        ]
        orphaned: set[str] = set()
        for worker in dead:
            for queue in queues:
                for name in (queue, f"{queue}.DQ"):
                    members = self.client.smembers(self.key(f"__acks__.{worker}.{name}"))
                    orphaned.update(_text(member) for member in members)  # type: ignore[union-attr]
        live: set[str] = set()
        for queue in queues:
            # The delay queue first: a due message moves from it to its queue
            # (added there, then removed here), so this order sees it once.
            for name, skip_orphans in (
                (f"{queue}.DQ.msgs", True),
                (f"{queue}.msgs", True),
                (f"{queue}.XQ.msgs", False),
            ):
                for redis_id, body in self.client.hscan_iter(self.key(name), count=1000):
                    if skip_orphans and _text(redis_id) in orphaned:
                        continue
                    live.add(_message_id(body))
        return live

    def scheduler(self) -> tuple[str | None, dict[str, datetime]]:
        """The scheduler leader's identity and the last tick of each producer."""
        holder = self.client.get(self.key("scheduler:leader"))
        ticks = self.client.hgetall(self.key("scheduler:ticks"))
        return (
            _text(holder) if holder is not None else None,
            {_text(k): datetime.fromisoformat(_text(v)) for k, v in sorted(ticks.items())},
        )

    def producer_health(self) -> dict[str, ProducerHealth]:
        """What the scheduler recorded of each producer (scheduler.ticks)."""
        ticks = {
            _text(k): _text(v) for k, v in self.client.hgetall(self.key("scheduler:ticks")).items()
        }
        raw = self.client.hgetall(self.key("scheduler:health"))
        fields: dict[str, dict[str, str]] = {}
        for key, value in raw.items():
            field, _, producer = _text(key).partition("|")
            fields.setdefault(producer, {})[field] = _text(value)
        for producer in ticks:
            fields.setdefault(producer, {})
        out: dict[str, ProducerHealth] = {}
        for producer, known in sorted(fields.items()):
            tick = ticks.get(producer)
            failure = known.get("last_failure")
            out[producer] = ProducerHealth(
                name=producer,
                every_seconds=float(known.get("every", 0)),
                last_success=datetime.fromisoformat(tick) if tick else None,
                last_failure=datetime.fromisoformat(failure) if failure else None,
                failures=int(known.get("failures", 0)),
                skipped=int(known.get("skipped", 0)),
                last_skipped=int(known.get("last_skipped", 0)),
            )
        return out


def inspector_of(broker: dramatiq.Broker) -> QueueInspector | None:
    """The broker's own Redis, or None when it is not Dramatiq's Redis broker
    (the StubBroker, RabbitMQ): then nothing can be told about its messages."""
    if not isinstance(broker, RedisBroker):
        return None
    return QueueInspector(broker.client, broker.namespace)


@lru_cache(maxsize=8)
def inspector_for(redis_url: str, namespace: str) -> QueueInspector | None:
    """None for the StubBroker (``stub://``): there is no Redis to read."""
    if redis_url.startswith("stub://"):
        return None
    client = redis.Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=5)
    return QueueInspector(client, namespace)
