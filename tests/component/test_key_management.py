"""Keys are listed (never their secret), revoked and rotated, from the CLI and
at /v1/keys; a revoked key fails at its next request, in every app instance."""

from __future__ import annotations

from datetime import timedelta

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from rollcall.cli import main
from rollcall.domain.access.keys import hash_key
from rollcall.domain.clock import utcnow
from rollcall.intake.app import create_app
from rollcall.models import ApiKey
from tests.support.stack import Stack
from tests.support.statements import counting


def key_id(stack: Stack, plaintext: str) -> str:
    with stack.db() as session:
        return str(
            session.scalars(select(ApiKey.id).where(ApiKey.key_hash == hash_key(plaintext))).one()
        )


def works(stack: Stack, plaintext: str, client: TestClient | None = None) -> bool:
    response = (client or stack.client).get("/v1/events", headers=stack.auth(plaintext))
    assert response.status_code in (200, 401), response.text
    return response.status_code == 200


def cli(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


# CLI --------------------------------------------------------------------------


def test_keys_list_shows_metadata_and_never_the_secret(component_stack: Stack) -> None:
    # Given two organisations' keys, one of them used
    acme = component_stack.key("acme", scopes=["events:read", "jobs:read"])
    other = component_stack.key("globex", scopes=["ops"])
    assert works(component_stack, acme)

    output = cli("keys", "list")

    lines = output.strip().splitlines()
    assert lines[0].split() == [
        "id",
        "organisation",
        "scopes",
        "created",
        "last",
        "used",
        "revoked",
    ]
    acme_line = next(line for line in lines if key_id(component_stack, acme) in line)
    assert "acme" in acme_line and "events:read,jobs:read" in acme_line
    # created and last used are filled in, revoked is not
    assert acme_line.split()[3:] != ["-", "-"] and acme_line.split()[-1] == "-"
    assert key_id(component_stack, other) in output
    for plaintext in (acme, other):
        assert plaintext not in output and plaintext[:10] not in output
        assert hash_key(plaintext) not in output
    # --org keeps one organisation
    only = cli("keys", "list", "--org", "globex")
    assert key_id(component_stack, other) in only and key_id(component_stack, acme) not in only


def test_keys_revoke_fails_the_key_at_its_next_request(component_stack: Stack) -> None:
    plaintext = component_stack.key(scopes=["events:read"])
    assert works(component_stack, plaintext)

    output = cli("keys", "revoke", key_id(component_stack, plaintext))

    assert output.startswith("revoked ")
    response = component_stack.client.get("/v1/events", headers=component_stack.auth(plaintext))
    assert response.status_code == 401 and response.json()["error"]["code"] == "INVALID_API_KEY"
    # revoking again changes nothing; an unknown id is a usage error
    assert cli("keys", "revoke", key_id(component_stack, plaintext)) == output
    result = CliRunner().invoke(main, ["keys", "revoke", "not-a-key"])
    assert result.exit_code == 2 and "no API key with id 'not-a-key'" in result.output


def test_keys_rotate_prints_a_key_with_the_same_scopes_and_revokes_the_old(
    component_stack: Stack,
) -> None:
    old = component_stack.key(scopes=["events:read", "students:write"])

    new = cli("keys", "rotate", key_id(component_stack, old)).strip().splitlines()[-1]

    assert new.startswith("rc_") and new != old
    assert works(component_stack, new) and not works(component_stack, old)
    with component_stack.db() as session:
        row = session.scalars(select(ApiKey).where(ApiKey.key_hash == hash_key(new))).one()
        assert row.scopes == ["events:read", "students:write"]
    # a revoked key is not rotated again
    result = CliRunner().invoke(main, ["keys", "rotate", key_id(component_stack, old)])
    assert result.exit_code == 2 and "revoked or already rotated" in result.output


def test_keys_rotate_with_grace_keeps_the_old_key_until_then(component_stack: Stack) -> None:
    old = component_stack.key(scopes=["events:read"])
    new = cli("keys", "rotate", key_id(component_stack, old), "--grace", "3600")
    new = new.strip().splitlines()[-1]

    assert works(component_stack, new) and works(component_stack, old)
    with component_stack.db() as session:
        row = session.scalars(select(ApiKey).where(ApiKey.key_hash == hash_key(old))).one()
        assert row.revoked_at is not None
        assert timedelta(minutes=59) < row.revoked_at - utcnow() <= timedelta(hours=1)
        # When the grace period is over
        row.revoked_at = utcnow() - timedelta(seconds=1)
    assert not works(component_stack, old) and works(component_stack, new)
    result = CliRunner().invoke(main, ["keys", "rotate", "x", "--grace", "-1"])
    assert result.exit_code == 2


# API --------------------------------------------------------------------------


def test_v1_keys_lists_the_organisations_keys_for_an_ops_key(component_stack: Stack) -> None:
    ops = component_stack.key("acme", scopes=["ops"])
    reader = component_stack.key("acme", scopes=["events:read"])
    other = component_stack.key("globex", scopes=["ops"])

    response = component_stack.client.get("/v1/keys", headers=component_stack.auth(ops))

    assert response.status_code == 200
    keys = response.json()["keys"]
    assert {key["id"] for key in keys} == {
        key_id(component_stack, ops),
        key_id(component_stack, reader),
    }
    assert set(keys[0]) == {
        "id", "organisation_id", "name", "prefix", "scopes", "is_operator",
        "created_at", "last_used_at", "revoked_at",
    }  # fmt: skip
    assert ops not in response.text and hash_key(ops) not in response.text
    assert keys[0]["last_used_at"] is not None  # this very request used it
    # a key without ops: 403; another organisation's sees only its own
    denied = component_stack.client.get("/v1/keys", headers=component_stack.auth(reader))
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "INSUFFICIENT_SCOPE"
    theirs = component_stack.client.get("/v1/keys", headers=component_stack.auth(other)).json()
    assert [key["id"] for key in theirs["keys"]] == [key_id(component_stack, other)]


@pytest.mark.parametrize("action", ["revoke", "rotate"])
def test_another_organisations_key_is_not_found(component_stack: Stack, action: str) -> None:
    ops = component_stack.key("acme", scopes=["ops"])
    theirs = component_stack.key("globex", scopes=["events:read"])
    for target in (key_id(component_stack, theirs), "nope", "00000000-0000-0000-0000-000000000000"):
        response = component_stack.client.post(
            f"/v1/keys/{target}/{action}", headers=component_stack.auth(ops)
        )
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "API_KEY_NOT_FOUND"
    assert works(component_stack, theirs)


def test_revoked_over_the_api_fails_at_once_in_another_app_instance(
    component_stack: Stack,
) -> None:
    # Given two app instances over one database, each having served the key
    ops = component_stack.key(scopes=["ops"])
    plaintext = component_stack.key(scopes=["events:read"])
    with TestClient(create_app(component_stack.settings)) as second:
        assert works(component_stack, plaintext) and works(component_stack, plaintext, second)

        # When the first revokes it
        response = component_stack.client.post(
            f"/v1/keys/{key_id(component_stack, plaintext)}/revoke",
            headers=component_stack.auth(ops),
        )

        # Then the second refuses it at its very next request
        assert response.status_code == 200 and response.json()["revoked_at"] is not None
        assert not works(component_stack, plaintext, second)
        assert not works(component_stack, plaintext)


def test_without_redis_every_request_reads_its_key(component_stack: Stack) -> None:
    # Given the fast tests' REDIS_URL=stub://: no epoch, so no cache
    plaintext = component_stack.key(scopes=["events:read"])
    assert works(component_stack, plaintext)

    # When the key is used again, then again after a revocation nobody announced
    with counting(component_stack) as statements:
        assert works(component_stack, plaintext)
        with component_stack.db() as session:
            session.execute(update(ApiKey).values(revoked_at=utcnow()))
        assert not works(component_stack, plaintext)

    # Then each request read the key's row
    reads = [s for s in statements if "api_keys.key_hash =" in " ".join(s.split())]
    assert len(reads) == 2, statements


def test_v1_keys_rotate_with_and_without_grace(component_stack: Stack) -> None:
    ops = component_stack.key(scopes=["ops"])
    old = component_stack.key(scopes=["events:read", "jobs:read"])
    old_id = key_id(component_stack, old)

    response = component_stack.client.post(
        f"/v1/keys/{old_id}/rotate", json={"grace_seconds": 600}, headers=component_stack.auth(ops)
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["new"]["scopes"] == ["events:read", "jobs:read"]
    assert body["key"].startswith("rc_") and body["old"]["id"] == old_id
    assert body["old"]["revoked_at"] > body["new"]["created_at"]
    assert works(component_stack, body["key"]) and works(component_stack, old)
    # rotating it again is refused: it is already due to be revoked
    again = component_stack.client.post(
        f"/v1/keys/{old_id}/rotate", headers=component_stack.auth(ops)
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "API_KEY_REVOKED"
    # the new one rotated with no body: the default grace is 0
    newest = component_stack.client.post(
        f"/v1/keys/{body['new']['id']}/rotate", headers=component_stack.auth(ops)
    )
    assert newest.status_code == 201
    assert not works(component_stack, body["key"]) and works(component_stack, newest.json()["key"])
    # revoking during the grace period ends it now
    component_stack.client.post(f"/v1/keys/{old_id}/revoke", headers=component_stack.auth(ops))
    assert not works(component_stack, old)


@pytest.mark.parametrize(
    "body", [{"grace_seconds": -1}, {"grace_seconds": 31 * 86400}, {"grace": 5}, [1], "x"]
)
def test_v1_keys_rotate_refuses_a_bad_body(component_stack: Stack, body: object) -> None:
    ops = component_stack.key(scopes=["ops"])
    old = component_stack.key(scopes=["events:read"])
    response = component_stack.client.post(
        f"/v1/keys/{key_id(component_stack, old)}/rotate",
        json=body,
        headers=component_stack.auth(ops),
    )
    assert response.status_code == 422 and response.json()["error"]["code"] == "VALIDATION_ERROR"
    assert works(component_stack, old)


# last_used_at -------------------------------------------------------------------


def test_last_used_is_written_at_most_once_a_minute(component_stack: Stack) -> None:
    plaintext = component_stack.key(scopes=["events:read"])
    with component_stack.db() as session:
        assert session.scalars(select(ApiKey.last_used_at)).one() is None
    assert works(component_stack, plaintext)
    with component_stack.db() as session:
        first = session.scalars(select(ApiKey.last_used_at)).one()
    assert first is not None

    # Within the minute: no write (the stored time stays put)
    assert works(component_stack, plaintext)
    with component_stack.db() as session:
        assert session.scalars(select(ApiKey.last_used_at)).one() == first
        # A minute later it is written again
        session.execute(update(ApiKey).values(last_used_at=utcnow() - timedelta(seconds=61)))
    assert works(component_stack, plaintext)
    with component_stack.db() as session:
        assert session.scalars(select(ApiKey.last_used_at)).one() > first  # type: ignore[operator]
