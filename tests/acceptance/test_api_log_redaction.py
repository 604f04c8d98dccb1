"""`rollcall api` as deployed (its own process, uvicorn's access log through our
logging): no secret from a URL reaches a log line."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.support.services import free_port

pytestmark = pytest.mark.slow


def test_access_log_redacts_tokens_and_keys(sqlite_url: str, tmp_path: Path) -> None:
    token = "rct_" + secrets.token_urlsafe(32)
    key = "rc_" + secrets.token_urlsafe(32)
    other = secrets.token_hex(12)
    port = free_port()
    log = tmp_path / "api.log"
    env = os.environ | {
        "DATABASE_URL": sqlite_url,
        "REDIS_URL": "stub://",
        "LOG_JSON": "true",
        "LOG_LEVEL": "INFO",
        "VAR_DIR": str(tmp_path / "var"),
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "rollcall", "api", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    api = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{api}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        # Given requests that carry secrets in their query strings
        with httpx.Client(base_url=api) as client:
            assert client.get("/v1/calendar.ics", params={"token": token}).status_code == 401
            assert client.get("/v1/events", params={"api_key": key}).status_code == 401
            client.get("/v1/calendar", params={"fromDate": "2030-01-01", "access_token": other})
            client.get("/v1/events", headers={"Authorization": f"Bearer {key}"})
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)

    # Then the access log shows the requests, and none of the secrets
    text = log.read_text()
    for secret in (token, key, other):
        assert secret not in text
    access = [
        json.loads(line)["msg"]
        for line in text.splitlines()
        if line.startswith("{") and json.loads(line)["logger"] == "uvicorn.access"
    ]
    assert any("GET /v1/calendar.ics?token=[REDACTED] HTTP/1.1" in line for line in access), access
    assert any("/v1/events?api_key=[REDACTED]" in line for line in access), access
    assert any("access_token=[REDACTED]" in line for line in access), access
