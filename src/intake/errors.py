"""The one place that maps error codes to HTTP status and the one error body shape:
``{"error": {"code": ..., "message": ..., "details": {...}}}``."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from domain import errors
from domain.bounds import echo

STATUS_BY_CATEGORY: list[tuple[type[errors.RollcallError], int]] = [
    (errors.Unauthenticated, 401),
    (errors.Forbidden, 403),
    (errors.NotFound, 404),
    (errors.Conflict, 409),
    (errors.Invalid, 422),
]

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
    body: dict[str, Any] = {"code": code, "message": message}
    if details:
        body["details"] = details
    return {"error": body}


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
        headers = (
            {"WWW-Authenticate": "Bearer"} if isinstance(exc, errors.Unauthenticated) else None
        )
        return JSONResponse({"error": exc.as_dict()}, status_code=status_for(exc), headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [_problem(problem) for problem in exc.errors()]
        first = problems[0] if problems else {"loc": [], "msg": "invalid request"}
        where = ".".join(first["loc"][1:] if len(first["loc"]) > 1 else first["loc"])
        return JSONResponse(
            error_body(
                "VALIDATION_ERROR",
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
