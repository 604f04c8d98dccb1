"""The intake application: ``uvicorn rollcall.intake.app:create_app --factory``.

``create_app`` is the web process's entry point: it takes the settings (or,
called bare by uvicorn's factory, builds them once) and everything the app
uses reaches them from ``app.state.settings``; the broker is made from them.
"""

from __future__ import annotations

from fastapi import FastAPI

import rollcall.intake.ops.routes
from rollcall import __version__
from rollcall.config.settings import Settings, get_settings
from rollcall.intake.body_limit import BodyLimit
from rollcall.intake.errors import install_error_handlers
from rollcall.intake.middleware import RequestContext
from rollcall.intake.ops.errors import install_ops_error_handlers
from rollcall.intake.routes import (
    attendee_tokens,
    attendees,
    calendar,
    emails,
    enrollments,
    event_parts,
    events,
    health,
    jobs,
    metrics,
    offers,
    reminders,
)
from rollcall.messaging.broker import configure_broker

DESCRIPTION = """
Rollcall's intake API. Authenticate with `Authorization: Bearer <api key>`.
Writes that touch enrollments are jobs: they answer **202** with the job and a
`Location: /v1/jobs/{id}` header; poll it, with the credential that created the
job, for the outcome. An attendee's end-user token (`rct_...`) enrolls and
cancels for that attendee, as the calendar's calls to action say. Every error has the
body `{"error": {"code", "message", "details"}}`; the codes are listed in the README.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    app = FastAPI(title="Rollcall", version=__version__, description=DESCRIPTION)
    settings = settings or get_settings()
    app.state.settings = settings
    configure_broker(settings)
    install_error_handlers(app)
    routers = (
        events,
        event_parts,
        offers,
        enrollments,
        attendees,
        attendee_tokens,
        calendar,
        reminders,
        jobs,
        emails,
        health,
        metrics,
        rollcall.intake.ops.routes,
    )
    for module in routers:
        app.include_router(module.router)
    install_ops_error_handlers(app)
    app.add_middleware(BodyLimit)
    app.add_middleware(RequestContext)
    return app
