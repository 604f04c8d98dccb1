"""The `rollcall` command: keys are printed once, alone on the last line, and stored hashed."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from rollcall.cli import main
from rollcall.domain.access.keys import hash_key
from rollcall.models import ApiKey, Organisation
from rollcall.models.db import sessions_for
from tests.support.stack import configure


def test_keys_create_prints_the_key_last_and_stores_its_hash(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    configure(monkeypatch, database_url=url)
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0

    result = runner.invoke(
        main, ["keys", "create", "--org", "Acme", "--scopes", "events:write,jobs:read"]
    )

    assert result.exit_code == 0, result.output
    plaintext = result.output.strip().splitlines()[-1]
    assert plaintext.startswith("rc_") and " " not in plaintext
    with sessions_for(url)() as session:
        key = session.scalars(select(ApiKey)).one()
        assert key.key_hash == hash_key(plaintext) and plaintext not in key.key_hash
        assert key.scopes == ["events:write", "jobs:read"]
        assert session.scalars(select(Organisation.name)).all() == ["Acme"]

    # A second key for the same organisation reuses it
    runner.invoke(main, ["keys", "create", "--org", "Acme", "--scopes", "ops"])
    with sessions_for(url)() as session:
        assert len(session.scalars(select(Organisation)).all()) == 1


def test_keys_create_refuses_unknown_scopes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    configure(monkeypatch, database_url=f"sqlite:///{tmp_path / 'cli.db'}")
    runner = CliRunner()
    runner.invoke(main, ["db", "upgrade"])
    result = runner.invoke(main, ["keys", "create", "--org", "Acme", "--scopes", "root"])
    assert result.exit_code == 2
    assert "unknown scopes: root" in result.output
