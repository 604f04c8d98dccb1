"""The README's promise: `rollcall dev` starts everything, and the curl flow
enrolls an attendee whose confirmation mail lands in var/mail/."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.support.services import free_port, read_eml
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow


def test_rollcall_dev_enrolls_and_mails(tmp_path: Path) -> None:
    var = tmp_path / "var"
    port, redis_port, smtp_port = free_port(), free_port(), free_port()
    # Given `rollcall dev` on free ports
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rollcall",
            "dev",
            "--var",
            str(var),
            "--port",
            str(port),
            "--redis-port",
            str(redis_port),
            "--smtp-port",
            str(smtp_port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    api = f"http://127.0.0.1:{port}"
    try:
        wait_until(
            lambda: httpx.get(f"{api}/readyz").status_code == 200,
            timeout=60,
            what="rollcall dev ready",
            every=0.2,
            ignoring=(httpx.HTTPError,),
        )
        key = (var / "dev-api-key").read_text().strip()
        auth = {"Authorization": f"Bearer {key}"}

        # When the README's curl flow runs against it
        created = httpx.post(
            f"{api}/v1/events",
            headers=auth,
            json={
                "name": "Intro to Rollcall",
                "type": "TRAINING",
                "ref": "intro-2027",
                "timezone": "Europe/Amsterdam",
                "starts_at": "2027-03-01T09:00:00+01:00",
                "ends_at": "2027-03-01T12:00:00+01:00",
                "max_subscriptions": 25,
            },
        )
        assert created.status_code == 201, created.text
        assert httpx.post(f"{api}/v1/events/intro-2027/publish", headers=auth).status_code == 200
        accepted = httpx.post(
            f"{api}/v1/events/intro-2027/enrollments",
            headers=auth | {"Idempotency-Key": "enroll-ada-1"},
            json={
                "attendee": {"ref": "u-1001", "email": "ada@example.org", "name": "Ada Lovelace"}
            },
        )
        assert accepted.status_code == 202, accepted.text
        location = accepted.headers["Location"]
        wait_until(
            lambda: (
                httpx.get(f"{api}{location}", headers=auth).json()["status"] != "queued"
                and httpx.get(f"{api}{location}", headers=auth).json()["status"] != "running"
            ),
            timeout=60,
            what="the job finished",
            every=0.2,
            ignoring=(httpx.HTTPError,),
        )

        # Then the job succeeded, the seat is taken and the mail is in var/mail
        assert httpx.get(f"{api}{location}", headers=auth).json()["status"] == "succeeded"
        event = httpx.get(f"{api}/v1/events/intro-2027", headers=auth).json()
        assert (event["enrolled_count"], event["spots_available"]) == (1, 24)
        wait_until(
            lambda: any((var / "mail").glob("*.eml")), timeout=60, what="the mail", every=0.2
        )
        (eml,) = (var / "mail").glob("*.eml")
        mail = read_eml(eml)
        assert mail["Subject"] == "You are enrolled: Intro to Rollcall"
        assert mail["To"].addresses[0].addr_spec == "ada@example.org"
    finally:
        # And Ctrl-C stops everything cleanly
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output.decode()
    assert b"Rollcall is running" in output
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{api}/healthz", timeout=1)
