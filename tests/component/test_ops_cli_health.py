"""`rollcall status`, the migration progress bar, /healthz and /readyz."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from rollcall.cli import main
from rollcall.config import settings as settings_module
from tests.support.factories import enroll, published_event
from tests.support.logs import log_lines
from tests.support.stack import Stack


def test_status_prints_jobs_and_mail(component_stack: Stack) -> None:
    key = component_stack.key()
    published_event(component_stack, key, ref="s")
    enroll(component_stack, key, "s", "ada")
    component_stack.drain()
    result = CliRunner().invoke(main, ["status"])
    assert result.exit_code == 0, result.output
    assert "jobs: succeeded 1" in result.output
    assert "mail: sent 1" in result.output
    assert "1 processed, 0 failed" in result.output


def test_db_upgrade_shows_progress(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/fresh.db")
    settings_module.get_settings.cache_clear()
    first = CliRunner().invoke(main, ["db", "upgrade"])
    assert first.exit_code == 0, first.output
    from alembic.script import ScriptDirectory

    from rollcall.models.migrate import MIGRATIONS

    revisions = len(list(ScriptDirectory(str(MIGRATIONS)).walk_revisions()))
    assert f"migrating {revisions} revision(s)" in first.output
    again = CliRunner().invoke(main, ["db", "upgrade"])
    assert "migrating 0 revision(s)" in again.output


def test_healthz_and_readyz(component_stack: Stack) -> None:
    assert component_stack.client.get("/healthz").json() == {"status": "ok"}
    ready = component_stack.client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ok"

    # When the SMTP server goes away, the process is alive but not ready
    component_stack.sink.stop()
    assert component_stack.client.get("/healthz").status_code == 200
    with log_lines("rollcall") as logs:
        down = component_stack.client.get("/readyz")
    # Then it says which check failed, and only that (no host, port or error text:
    # /readyz answers anyone); the log says why
    assert down.status_code == 503
    assert down.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "redis": "ok", "smtp": "error"},
        "producers": {},
    }
    [line] = [line for line in logs.lines if line["logger"] == "rollcall.health"]
    assert "smtp" in str(line["msg"]) and "ConnectionRefusedError" in str(line["msg"])
    component_stack.sink.start()
