"""Revocation holds at the next request in every web process: two `rollcall api`
processes over one PostgreSQL and one Redis (so each caches the keys it
served, messaging.key_epoch), a key or an end-user token revoked through one
is refused by the other."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from rollcall.domain.access.keys import create_api_key, get_or_create_organisation, hash_key
from rollcall.domain.clock import utcnow
from rollcall.models import ApiKey, Attendee
from rollcall.models.db import dispose_all, sessions_for, transaction
from tests.support.services import RedisServer, free_port
from tests.support.stack import unique_namespace


@contextmanager
def api_process(
    database_url: str, redis: RedisServer, namespace: str, tmp_path: Path, name: str
) -> Iterator[str]:
    port = free_port()
    env = os.environ | {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis.url,
        "REDIS_NAMESPACE": namespace,
        "VAR_DIR": str(tmp_path / name),
    }
    log = tmp_path / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "rollcall", "api", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)  # polling a starting process: nothing to await
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def test_a_key_revoked_in_one_process_fails_at_once_in_the_other(
    postgres_url: str, redis_server: RedisServer, tmp_path: Path
) -> None:
    factory = sessions_for(postgres_url)
    with transaction(factory) as session:
        org = get_or_create_organisation(session, name="acme", now=utcnow())
        ops_key, ops = create_api_key(session, organisation=org, scopes=["ops"], now=utcnow())
        _key, plaintext = create_api_key(
            session, organisation=org, scopes=["events:read", "students:write"], now=utcnow()
        )
        now = utcnow()
        session.add(
            Attendee(
                organisation_id=org.id,
                ref="ada",
                email="ada@example.org",
                timezone="UTC",
                created_at=now,
                updated_at=now,
            )
        )
    dispose_all()
    namespace = unique_namespace()
    auth = {"Authorization": f"Bearer {plaintext}"}
    with (
        api_process(postgres_url, redis_server, namespace, tmp_path, "a") as a,
        api_process(postgres_url, redis_server, namespace, tmp_path, "b") as b,
        httpx.Client(base_url=a, timeout=30) as first,
        httpx.Client(base_url=b, timeout=30) as second,
    ):
        # Given both processes have served the key (on kept-alive connections)
        for client in (first, second):
            for _ in range(3):
                assert client.get("/v1/events", headers=auth).status_code == 200

        # (and an end-user token issued through A, used through B, revoked through A)
        issued = first.post("/v1/attendees/ada/tokens", headers=auth).json()
        bearer = {"Authorization": f"Bearer {issued['token']}"}
        assert second.get("/v1/calendar.ics", headers=bearer).status_code == 200
        gone = first.delete(f"/v1/attendees/ada/tokens/{issued['token_id']}", headers=auth)
        assert gone.status_code == 204
        assert second.get("/v1/calendar.ics", headers=bearer).status_code == 401
        assert second.get("/v1/calendar.ics", params={"token": issued["token"]}).status_code == 401

        # When process A revokes the key
        with factory() as session:
            key_id = session.query(ApiKey.id).filter_by(key_hash=hash_key(plaintext)).scalar()
        revoked = first.post(
            f"/v1/keys/{key_id}/revoke", headers={"Authorization": f"Bearer {ops}"}
        )
        assert revoked.status_code == 200, revoked.text

        # Then process B refuses it at its very next request, as does A
        refused = second.get("/v1/events", headers=auth)
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "INVALID_API_KEY"
        assert first.get("/v1/events", headers=auth).status_code == 401

        # And a rotation through B (with a grace period) is served by A at once
        rotated = second.post(
            f"/v1/keys/{ops_key.id}/rotate",
            json={"grace_seconds": 60},
            headers={"Authorization": f"Bearer {ops}"},
        )
        assert rotated.status_code == 201, rotated.text
        new = {"Authorization": f"Bearer {rotated.json()['key']}"}
        assert first.get("/v1/keys", headers=new).status_code == 200
        assert first.get("/v1/keys", headers={"Authorization": f"Bearer {ops}"}).status_code == 200
    with factory() as session:
        row = session.get(ApiKey, key_id)
        assert row is not None and row.last_used_at is not None
