"""The baseline worker: one no-op actor on each of Rollcall's queues, on a
broker made from the same settings (namespace, middleware) as the real one.

    dramatiq bench.noop_actors --processes 1 --threads 8 --skip-logging

Started by the benchmarks through ``bench.harness.worker_processes``, exactly
as ``rollcall worker`` starts ``rollcall.workers.actors``.
"""

from __future__ import annotations

import dramatiq

from rollcall.config.logs import configure_logging
from rollcall.config.settings import get_settings
from rollcall.domain.jobs.actor_names import QUEUE_OF
from rollcall.messaging.broker import configure_broker

_settings = get_settings()
broker = configure_broker(_settings)
configure_logging(_settings.log_level, _settings.log_json)

QUEUES = sorted(set(QUEUE_OF.values()))


def noop_name(queue: str) -> str:
    return f"bench_noop_{queue}"


def _noop(*_args: object) -> None:
    return None


ACTORS = {
    queue: dramatiq.actor(_noop, broker=broker, queue_name=queue, actor_name=noop_name(queue))
    for queue in QUEUES
}
