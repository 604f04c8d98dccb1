"""The one place that maps error codes to HTTP status and the one error body shape:
``{"error": {"code": ..., "message": ..., "details": {...}}}``."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from rollcall.domain import errors
from rollcall.domain.bounds import echo
from rollcall.models.db import is_database_unavailable

logger = logging.getLogger("rollcall.intake")

STATUS_BY_CATEGORY: list[tuple[type[errors.RollcallError], int]] = [
    (errors.Unauthenticated, 401),
    (errors.Forbidden, 403),
    (errors.NotFound, 404),
    (errors.Conflict, 409),
    (errors.Invalid, 422),
    (errors.Unavailable, 503),
]

#: What a 503 tells clients to wait before they try again (Retry-After, seconds).
RETRY_AFTER_SECONDS = 5

STATUS_BY_HTTP_CODE = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
}


def status_for(error: errors.RollcallError) -> int:
    for category, status in STATUS_BY_CATEGORY:
        if isinstance(error, category):
            return status
    return 500


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    """The one error body: every key always there, ``details`` ``{}`` when none."""
    return {"error": {"code": code, "message": message, "details": details or {}}}


def error_response(exc: errors.RollcallError) -> JSONResponse:
    headers: dict[str, str] = {}
    if isinstance(exc, errors.Unauthenticated):
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(exc, errors.Unavailable):
        headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return JSONResponse(
        error_body(exc.code, exc.message, exc.details), status_code=status_for(exc), headers=headers
    )


def internal_error_response(exc: BaseException) -> JSONResponse:
    """The answer to a failure nobody foresaw: logged in full (the request id is
    on the line), told to the client as INTERNAL_ERROR without its text."""
    logger.error("unhandled error: %s", type(exc).__name__, exc_info=exc)
    return error_response(errors.InternalError())


def _problem(problem: dict[str, Any]) -> dict[str, Any]:
    """One entry of ``details.errors``: where (user-given keys bounded), what, and
    pydantic's error type."""
    if problem.get("type") == "json_invalid":
        # The body as a whole: the parser's reason (intake.json_body) says where.
        reason = (problem.get("ctx") or {}).get("error") or "the body is not valid JSON"
        return {"loc": [], "msg": str(reason), "type": "json_invalid"}
    return {
        "loc": [echo(part) for part in problem.get("loc", ())],
        "msg": str(problem.get("msg", "")),
        "type": str(problem.get("type", "")),
    }


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(errors.RollcallError)
    async def _domain(_request: Request, exc: errors.RollcallError) -> JSONResponse:
        return error_response(exc)

    async def _database(_request: Request, exc: Exception) -> JSONResponse:
        if not is_database_unavailable(exc):
            return internal_error_response(exc)
        # The text names the host and port: for the logs, never for the client.
        logger.warning("database unavailable: %s: %s", type(exc).__name__, exc)
        return error_response(errors.DatabaseUnavailable())

    app.add_exception_handler(sa_exc.DBAPIError, _database)
    app.add_exception_handler(sa_exc.TimeoutError, _database)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [_problem(problem) for problem in exc.errors()]
        first = problems[0] if problems else {"loc": [], "msg": "invalid request"}
        where = ".".join(first["loc"][1:] if len(first["loc"]) > 1 else first["loc"])
        return JSONResponse(
            error_body(
                errors.code_for_problem(first.get("type")),
                f"{where}: {first['msg']}" if where else str(first["msg"]),
                {"errors": problems},
            ),
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = STATUS_BY_HTTP_CODE.get(exc.status_code, "HTTP_ERROR")
        return JSONResponse(
            error_body(code, str(exc.detail)), status_code=exc.status_code, headers=exc.headers
        )
