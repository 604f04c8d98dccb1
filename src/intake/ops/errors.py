"""Errors on dashboard pages answer as pages: sign-in redirects, readable refusals.

The JSON error handlers of intake.errors stay in charge everywhere else.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from rollcall.domain.errors import DomainError, RollcallError
from rollcall.domain.errors.access import OpsSignInRequired
from rollcall.intake.errors import status_for


def install_ops_error_handlers(app: FastAPI) -> None:
    """Install after intake.errors.install_error_handlers."""
    json_handler = app.exception_handlers[RollcallError]

    @app.exception_handler(OpsSignInRequired)
    async def _sign_in(request: Request, exc: OpsSignInRequired) -> Response:
        if request.method == "GET" and not request.headers.get("X-Ops-Refresh"):
            return RedirectResponse("/ops/login", status_code=303)
        return HTMLResponse(exc.message, status_code=401)

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> Response:
        if request.url.path.startswith("/ops"):
            from rollcall.intake.ops.routes import error_page

            return error_page(request, exc, status_for(exc))
        response: Response = await json_handler(request, exc)  # type: ignore[misc]
        return response
