"""Readable logs: one JSON object per line, carrying the job and request ids.

The ids live in context variables, so every log line written while a job runs
(in the web process or the worker) names the job without passing it around.

Every line is redacted on its way out (``redact``): secret query parameters
(``token``, ``api_key``, ...), bearer credentials and anything shaped like a
Rollcall key or token. It happens in the one formatter every handler uses, so
uvicorn's access log, library loggers and our own lines are all covered.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

job_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("job_id", default=None)
request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}

REDACTED = "[REDACTED]"
_SECRET_QUERY = re.compile(
    # A query parameter whose name says it carries a secret: token, key,
    # api_key, access_token, secret, password, ...
    r"(?i)([?&;][\w.\-]*(?:token|key|secret|password|passwd)[\w.\-]*=)[^&\s\"'#;\\]+"
)
_BEARER = re.compile(r"(?i)(\b(?:bearer|basic)\s+)[^\s\"',;\\]+")
#: API keys are rc_<43 chars>, end-user tokens rct_<43 chars>; their 10-char
#: prefixes (shown on the dashboard) are too short to match.
_KEY_SHAPE = re.compile(r"\b(rct?_)[A-Za-z0-9_\-]{16,}")


def redact(text: str) -> str:
    """``text`` with secrets replaced by [REDACTED]."""
    text = _SECRET_QUERY.sub(rf"\1{REDACTED}", text)
    text = _BEARER.sub(rf"\1{REDACTED}", text)
    return _KEY_SHAPE.sub(rf"\1{REDACTED}", text)


@contextmanager
def job_context(job_id: str) -> Iterator[None]:
    token = job_id_var.set(job_id)
    try:
        yield
    finally:
        job_id_var.reset(token)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        body: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if (job_id := job_id_var.get()) and "job_id" not in record.__dict__:
            body["job_id"] = job_id
        if request_id := request_id_var.get():
            body["request_id"] = request_id
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                body[key] = value
        if record.exc_info:
            body["exc"] = self.formatException(record.exc_info)
        return json.dumps(body, default=str)


class Redacting(logging.Formatter):
    """Formats with ``inner``, then redacts the whole line (message, arguments,
    extra fields and traceback alike)."""

    def __init__(self, inner: logging.Formatter) -> None:
        super().__init__()
        self.inner = inner

    def format(self, record: logging.LogRecord) -> str:
        return redact(self.inner.format(record))


def make_formatter(json_lines: bool = True) -> logging.Formatter:
    """The formatter of every handler Rollcall installs."""
    inner = (
        JsonFormatter()
        if json_lines
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    return Redacting(inner)


def configure_logging(level: str = "INFO", json_lines: bool = True) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(make_formatter(json_lines))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
