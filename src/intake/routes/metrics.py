"""``/metrics``: Prometheus text, collected at scrape time from Redis and the database.

Nothing is kept in the web process, so every web process answers the same.
Access needs an ``ops`` key of a platform operator (Prometheus:
``authorization: {credentials: rc_...}``), because the figures span organisations.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import CollectorRegistry
from prometheus_client.registry import Collector

from domain.errors import OperatorOnly
from intake.deps import AppSettings, Caller, require
from intake.metrics_collector import RollcallCollector

router = APIRouter(tags=["ops"])


def operator(caller: Annotated[Caller, Depends(require("ops"))]) -> Caller:
    if not caller.is_operator:
        raise OperatorOnly()
    return caller


class _Once(Collector):
    def __init__(self, collector: RollcallCollector) -> None:
        self.collector = collector

    def collect(self) -> Iterator[object]:  # type: ignore[override]
        yield from self.collector.collect()


@router.get(
    "/metrics",
    summary="Prometheus metrics (operator key with the ops scope)",
    response_class=Response,
)
def metrics(settings: AppSettings, _caller: Annotated[Caller, Depends(operator)]) -> Response:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Once(RollcallCollector(settings)))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
