"""The intake app as ``rollcall api`` serves it, plus one constant route for
the calendar and intake benchmarks' baseline: ``GET`` or ``POST /bench/constant``
answers the bytes
of a calendar page read once at start-up (``BENCH_CONSTANT_PAGE``, a file), with
no authentication and no database.

    python -m bench.calendar_app PORT

runs it under uvicorn with the options ``rollcall api`` uses, its database
pool sized as ``rollcall api`` sizes it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from fastapi import FastAPI, Response

from rollcall.config.logs import configure_logging
from rollcall.config.settings import get_settings
from rollcall.intake.app import create_app


def app() -> FastAPI:
    served = create_app(get_settings())
    body = Path(os.environ["BENCH_CONSTANT_PAGE"]).read_bytes()

    def constant() -> Response:
        return Response(body, media_type="application/json")

    served.add_api_route(
        "/bench/constant", constant, methods=["GET", "POST"], include_in_schema=False
    )
    return served


if __name__ == "__main__":
    import uvicorn

    from rollcall.models.db import pool_size_for

    # The pool sized to the threads, as ``rollcall api`` sizes it: unsized, a
    # pool keeps 10 connections and closes each one over that on its return,
    # so 16 threads would reconnect to the database on every other request.
    os.environ.setdefault("DATABASE_POOL_SIZE", str(pool_size_for(get_settings().web_threads)))
    get_settings.cache_clear()
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    uvicorn.run(
        "bench.calendar_app:app",
        factory=True,
        host="127.0.0.1",
        port=int(sys.argv[1]),
        log_config=None,
        proxy_headers=True,
    )
