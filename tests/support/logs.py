"""Log lines as production writes them: the formatter every handler gets."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from rollcall.config.logs import make_formatter


class LogLines(logging.Handler):
    """Formats each record as it is emitted, in the emitting thread (so the
    request and job ids of the context vars are on it), with the production
    formatter (so redaction applies)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(make_formatter(json_lines=True))
        self.raw: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.raw.append(self.format(record))

    @property
    def lines(self) -> list[dict[str, object]]:
        return [json.loads(line) for line in self.raw]


@contextmanager
def log_lines(name: str = "", level: int = logging.INFO) -> Iterator[LogLines]:
    """Every line logged under ``name`` ("" = all loggers) while the block runs."""
    handler = LogLines()
    logger = logging.getLogger(name)
    before = logger.level
    logger.addHandler(handler)
    logger.setLevel(level)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(before)
