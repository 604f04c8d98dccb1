"""The intake application: ``uvicorn rollcall.intake.app:create_app --factory``.

``create_app`` is the web process's entry point: it takes the settings (or,
called bare by uvicorn's factory, builds them once) and everything the app
uses reaches them from ``app.state.settings``; the broker is made from them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI

import rollcall.intake.ops.routes
from rollcall import __version__
from rollcall.config.settings import Settings, get_settings
from rollcall.intake.body_limit import BodyLimit
from rollcall.intake.errors import install_error_handlers
from rollcall.intake.graphql.router import install_graphql
from rollcall.intake.middleware import RequestContext
from rollcall.intake.ops.errors import install_ops_error_handlers
from rollcall.intake.routes import (
    attendee_tokens,
    attendees,
    calendar,
    catalogue,
    emails,
    enrollments,
    event_parts,
    events,
    exports,
    health,
    jobs,
    keys,
    metrics,
    offers,
    reminders,
    webhooks,
)
from rollcall.intake.seed002 import routes as seed002
from rollcall.intake.seed002.status_code import StatusCodeOnErrors
from rollcall.messaging.broker import configure_broker
from rollcall.messaging.key_epoch import ApiKeys

DESCRIPTION = """
Rollcall's intake API. Authenticate with `Authorization: Bearer <api key>`.
Writes that touch enrollments are jobs: they answer **202** with the job and a
`Location: /v1/jobs/{id}` header; poll it, with the credential that created the
job, for the outcome. An attendee's end-user token (`rct_...`) enrolls and
cancels for that attendee, as the calendar's calls to action say. Every error has the
body `{"error": {"code", "message", "details"}}`; the codes are listed in the README.
"""


def _route_threads(threads: int) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Bound uvicorn's threadpool (anyio's default limiter, which runs every
    synchronous route and dependency) to WEB_THREADS: the process then never
    wants more database connections than its pool holds (models.db.pool_size_for)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        yield
        # The key epoch's asyncio client of this loop (deps.credential_in_one_hop).
        await app.state.api_keys.epoch.aclose()

    return lifespan


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="Rollcall",
        version=__version__,
        description=DESCRIPTION,
        lifespan=_route_threads(settings.web_threads),
    )
    app.state.settings = settings
    app.state.api_keys = ApiKeys(settings)
    configure_broker(settings)
    install_error_handlers(app)
    routers = (
        exports,
        events,
        event_parts,
        offers,
        catalogue,
        enrollments,
        attendees,
        attendee_tokens,
        calendar,
        reminders,
        jobs,
        keys,
        emails,
        webhooks,
        health,
        metrics,
        rollcall.intake.ops.routes,
        seed002,
    )
    for module in routers:
        app.include_router(module.router)
    install_graphql(app, settings)
    install_ops_error_handlers(app)
    app.add_middleware(StatusCodeOnErrors)
    app.add_middleware(BodyLimit)
    app.add_middleware(RequestContext)
    return app
