"""``/metrics``: Prometheus text, collected at scrape time from Redis and the database.

Nothing is kept in the web process, so every web process answers the same.
Access needs an ``ops`` key of a platform operator (Prometheus:
``authorization: {credentials: rc_...}``), because the figures span organisations.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import CollectorRegistry

from rollcall.domain.errors.access import OperatorOnly
from rollcall.intake.deps import AppSettings, Caller, require
from rollcall.intake.metrics_collector import RollcallCollector

router = APIRouter(tags=["ops"])


def operator(caller: Annotated[Caller, Depends(require("ops"))]) -> Caller:
    if not caller.is_operator:
        raise OperatorOnly()
    return caller


@router.get(
    "/metrics",
    summary="Prometheus metrics (operator key with the ops scope)",
    response_class=Response,
)
def metrics(settings: AppSettings, _caller: Annotated[Caller, Depends(operator)]) -> Response:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(RollcallCollector(settings))  # type: ignore[arg-type]
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
