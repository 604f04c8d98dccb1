"""A web process's API key cache (messaging.key_epoch), on PostgreSQL and
Redis: a hit reads no key row, and every change to a key is seen at the next
request by every app instance sharing Redis, also when Redis restarted empty
or is down. Two app instances in one test stand for two web processes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from rollcall.cli import main
from rollcall.config.settings import Settings
from rollcall.domain.access.keys import create_api_key, get_or_create_organisation, hash_key
from rollcall.domain.clock import utcnow
from rollcall.intake import deps
from rollcall.intake.app import create_app
from rollcall.messaging.key_epoch import KeyEpoch, changing_api_keys, epoch_key
from rollcall.models import ApiKey
from rollcall.models.db import sessions_for, transaction
from tests.support.faults import PrivateRedis
from tests.support.services import RedisServer, free_port
from tests.support.stack import Stack, configure, unique_namespace
from tests.support.statements import counting

Apps = Callable[..., tuple[Settings, TestClient, TestClient]]


@pytest.fixture
def apps(monkeypatch: pytest.MonkeyPatch, postgres_url: str, tmp_path: Path) -> Iterator[Apps]:
    """``apps(redis_url, **env)``: settings and two app instances on this
    test's PostgreSQL, sharing the Redis at ``redis_url`` (one namespace)."""
    with ExitStack() as stack:

        def make(redis_url: str, **env: str) -> tuple[Settings, TestClient, TestClient]:
            settings = configure(
                monkeypatch,
                database_url=postgres_url,
                redis_url=redis_url,
                redis_namespace=unique_namespace(),
                var_dir=str(tmp_path / "var"),
                **env,
            )
            first = stack.enter_context(TestClient(create_app(settings)))
            second = stack.enter_context(TestClient(create_app(settings)))
            return settings, first, second

        yield make


def new_key(settings: Settings, scopes: list[str]) -> str:
    with transaction(sessions_for(settings.database_url)) as session:
        org = get_or_create_organisation(session, name="acme", now=utcnow())
        _key, plaintext = create_api_key(session, organisation=org, scopes=scopes, now=utcnow())
    return plaintext


def key_id(settings: Settings, plaintext: str) -> str:
    with sessions_for(settings.database_url)() as session:
        found = session.scalar(select(ApiKey.id).where(ApiKey.key_hash == hash_key(plaintext)))
    return str(found)


def status(client: TestClient, plaintext: str, path: str = "/v1/events") -> int:
    return client.get(path, headers={"Authorization": f"Bearer {plaintext}"}).status_code


@dataclass(frozen=True)
class Way:
    """A way a request's key is looked up: the sync dependency of a REST
    route (GET /v1/events), or the async enroll route's, which answers a
    cache hit on the event loop (deps.credential_in_one_hop). ``status`` is
    200 for a key let through (the enroll, to no event, is then a 404)."""

    name: str
    scope: str

    def status(self, client: TestClient, plaintext: str) -> int:
        headers = {"Authorization": f"Bearer {plaintext}"}
        if self.name == "rest":
            return client.get("/v1/events", headers=headers).status_code
        response = client.post(
            "/v1/events/no-such-event/enrollments",
            json={"attendee": {"ref": "ada", "email": "ada@example.org"}},
            headers=headers,
        )
        if response.status_code == 404:
            assert response.json()["error"]["code"] == "EVENT_NOT_FOUND", response.text
            return 200
        return response.status_code


WAYS = [Way("rest", "events:read"), Way("enroll", "students:write")]


@pytest.fixture(params=WAYS, ids=[way.name for way in WAYS])
def way(request: pytest.FixtureRequest) -> Way:
    way: Way = request.param
    return way


def is_key_statement(statement: str) -> bool:
    """The key's lookup by hash, or the write of its last use."""
    flat = " ".join(statement.split())
    return "api_keys.key_hash =" in flat or flat.startswith("UPDATE api_keys")


@contextmanager
def key_statements(settings: Settings) -> Iterator[list[str]]:
    """The SQL statements meanwhile that read a key by hash or note its use."""
    stack = Stack(settings=settings, broker=None, client=None)  # type: ignore[arg-type]
    keys: list[str] = []
    with counting(stack) as statements:
        yield keys
    keys.extend(s for s in statements if is_key_statement(s))


def cli(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def shift_clock(monkeypatch: pytest.MonkeyPatch, by: timedelta) -> None:
    """The requests' clock (intake.deps reads it) runs ``by`` ahead."""
    monkeypatch.setattr("rollcall.intake.deps.utcnow", lambda: utcnow() + by)


def test_a_cache_hit_reads_no_key_row_on_each_way_a_key_is_looked_up(
    apps: Apps, redis_server: RedisServer
) -> None:
    # Given an app that served a key once
    settings, first, _second = apps(redis_server.url)
    plaintext = new_key(settings, ["events:read", "students:write"])
    headers = {"Authorization": f"Bearer {plaintext}"}
    with key_statements(settings) as filled:
        assert status(first, plaintext) == 200
    assert [s.split()[0] for s in filled] == ["SELECT", "UPDATE"], filled

    # When it serves it again: REST's dependency, the async routes' one hop
    # (an unknown event, so nothing is written), GraphQL's context
    with key_statements(settings) as hits:
        assert status(first, plaintext) == 200
        enrolled = first.post(
            "/v1/events/no-such-event/enrollments",
            json={"attendee": {"ref": "ada", "email": "ada@example.org"}},
            headers=headers,
        )
        query = first.post(
            "/graphql", json={"query": '{ offerEvent(ref: "nope") { id } }'}, headers=headers
        )

    # Then no statement reads the key's row
    assert enrolled.status_code == 404, enrolled.text
    codes = [e["extensions"]["error"]["code"] for e in query.json().get("errors", [])]
    assert query.status_code == 200 and codes in ([], ["EVENT_NOT_FOUND"]), query.text
    assert hits == []


def test_an_enroll_with_a_cached_key_looks_nothing_up_off_the_event_loop(
    apps: Apps, redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an app that served a key once (filled in its cache, its use noted)
    settings, first, _second = apps(redis_server.url)
    plaintext = new_key(settings, ["students:write"])
    enroll = Way("enroll", "students:write")
    assert enroll.status(first, plaintext) == 200
    looked_up: list[object] = []
    real = deps.credential_of

    def counted(*args: Any) -> Any:
        looked_up.append(args)
        return real(*args)

    monkeypatch.setattr(deps, "credential_of", counted)

    # When it enrolls three times more
    statuses = [enroll.status(first, plaintext) for _ in range(3)]

    # Then each was let through from the cache, the epoch read on the loop:
    # no threadpool call looked the key up (before: one a request)
    assert statuses == [200, 200, 200]
    assert looked_up == []
    # And a key it does not know is still looked up there, and refused
    assert enroll.status(first, "rc_not-a-key") == 401
    assert len(looked_up) == 1


def test_last_use_is_still_written_once_a_minute_on_a_hit(
    apps: Apps, redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch, way: Way
) -> None:
    # Given a key served (and its use noted) by an app whose cache outlives a minute
    settings, first, _second = apps(redis_server.url, api_key_cache_seconds="3600")
    plaintext = new_key(settings, [way.scope])
    assert way.status(first, plaintext) == 200

    # When it is used again more than a minute later, twice
    shift_clock(monkeypatch, timedelta(seconds=90))
    with key_statements(settings) as later:
        assert way.status(first, plaintext) == 200
    with key_statements(settings) as again:
        assert way.status(first, plaintext) == 200

    # Then the first writes last_used_at (and reads no row), the second nothing
    assert [s.split()[0] for s in later] == ["UPDATE"], later
    assert again == []
    with sessions_for(settings.database_url)() as session:
        used = session.scalar(
            select(ApiKey.last_used_at).where(ApiKey.key_hash == hash_key(plaintext))
        )
    assert used is not None and used > utcnow() + timedelta(seconds=60)


@pytest.mark.parametrize("through", ["api", "cli"])
def test_a_revoked_key_is_refused_at_the_next_request_by_another_app(
    apps: Apps, redis_server: RedisServer, through: str, way: Way
) -> None:
    # Given two app instances sharing Redis, each having served the key from its cache
    settings, first, second = apps(redis_server.url)
    ops = new_key(settings, ["ops"])
    plaintext = new_key(settings, [way.scope])
    for client in (first, second, first, second):
        assert way.status(client, plaintext) == 200
    with key_statements(settings) as hits:
        assert way.status(second, plaintext) == 200
    assert hits == []

    # When it is revoked through the first instance, or from the shell
    if through == "api":
        revoked = first.post(
            f"/v1/keys/{key_id(settings, plaintext)}/revoke",
            headers={"Authorization": f"Bearer {ops}"},
        )
        assert revoked.status_code == 200, revoked.text
    else:
        cli("keys", "revoke", key_id(settings, plaintext))

    # Then the second refuses it at its very next request, as does the first
    assert way.status(second, plaintext) == 401
    assert way.status(first, plaintext) == 401
    assert status(second, ops, "/v1/keys") == 200


def test_a_scope_change_is_seen_at_the_next_request(apps: Apps, redis_server: RedisServer) -> None:
    # Given a key with events:read and jobs:read, served from both caches
    settings, first, second = apps(redis_server.url)
    plaintext = new_key(settings, ["events:read", "jobs:read"])
    for client in (first, second):
        assert status(client, plaintext) == 200 and status(client, plaintext) == 200

    # When its scopes change, as every writer of keys changes them
    with (
        changing_api_keys(KeyEpoch(settings)),
        transaction(sessions_for(settings.database_url)) as session,
    ):
        session.execute(
            update(ApiKey)
            .where(ApiKey.key_hash == hash_key(plaintext))
            .values(scopes=["jobs:read"])
        )

    # Then both instances refuse it events at their next request
    assert status(second, plaintext) == 403
    assert status(first, plaintext) == 403


def test_a_rotated_keys_grace_period_ends_on_time_on_a_cache_hit(
    apps: Apps, redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a key rotated with a minute's grace, served from the cache since
    settings, first, second = apps(redis_server.url, api_key_cache_seconds="3600")
    ops = new_key(settings, ["ops"])
    rotated = first.post(
        f"/v1/keys/{key_id(settings, ops)}/rotate",
        json={"grace_seconds": 60},
        headers={"Authorization": f"Bearer {ops}"},
    )
    assert rotated.status_code == 201, rotated.text
    new = rotated.json()["key"]
    assert status(second, ops, "/v1/keys") == 200
    with key_statements(settings) as hits:
        assert status(second, ops, "/v1/keys") == 200
    assert hits == []

    # When the grace period is over (no change to any key since)
    shift_clock(monkeypatch, timedelta(seconds=61))

    # Then the old key is refused, still from the cache, and the new one works
    with key_statements(settings) as refused:
        assert status(second, ops, "/v1/keys") == 401
    assert refused == []
    assert status(second, new, "/v1/keys") == 200


def test_redis_restarted_empty_distrusts_the_entries_filled_before(
    apps: Apps, private_redis: PrivateRedis, way: Way
) -> None:
    # Given a key served from the cache of an app
    settings, first, _second = apps(private_redis.url, api_key_cache_seconds="3600")
    plaintext = new_key(settings, [way.scope])
    assert way.status(first, plaintext) == 200 and way.status(first, plaintext) == 200
    client = private_redis_client(private_redis)
    assert client.get(epoch_key(settings.redis_namespace)) is not None

    # When Redis loses everything (FLUSHALL: a restart without persistence),
    # and the key is revoked meanwhile without any epoch written
    client.flushall()
    revoke_in_database(settings, plaintext, at=utcnow())

    # Then the next request refuses it
    assert way.status(first, plaintext) == 401


def test_without_redis_keys_are_read_from_the_database(
    apps: Apps, private_redis: PrivateRedis, way: Way
) -> None:
    # Given two keys served from the cache of an app
    settings, first, _second = apps(private_redis.url, api_key_cache_seconds="3600")
    kept = new_key(settings, [way.scope])
    revoked = new_key(settings, [way.scope])
    for plaintext in (kept, revoked, kept, revoked):
        assert way.status(first, plaintext) == 200

    # When Redis goes down, and one key is revoked meanwhile (its epoch lost)
    private_redis.kill()
    cli("keys", "revoke", key_id(settings, revoked))

    # Then the valid key still works and the revoked one is refused, both read from the database
    with key_statements(settings) as read:
        assert way.status(first, kept) == 200
        assert way.status(first, revoked) == 401
    assert len([s for s in read if s.startswith("SELECT")]) == 2, read


def test_an_unreachable_redis_never_refuses_a_valid_key(apps: Apps, way: Way) -> None:
    settings, first, second = apps(f"redis://127.0.0.1:{free_port()}/0")
    plaintext = new_key(settings, [way.scope])
    assert way.status(first, plaintext) == 200 and way.status(second, plaintext) == 200
    revoke_in_database(settings, plaintext, at=utcnow())
    assert way.status(first, plaintext) == 401 and way.status(second, plaintext) == 401


def private_redis_client(server: PrivateRedis) -> redis.Redis:
    return redis.Redis.from_url(server.url)


def revoke_in_database(settings: Settings, plaintext: str, *, at: datetime) -> None:
    """A revocation whose epoch never reached Redis."""
    with transaction(sessions_for(settings.database_url)) as session:
        session.execute(
            update(ApiKey).where(ApiKey.key_hash == hash_key(plaintext)).values(revoked_at=at)
        )
