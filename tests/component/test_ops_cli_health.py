"""`rollcall status`, the migration progress bar, /healthz and /readyz."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from rollcall.cli import main
from rollcall.cli.status import sparkline
from rollcall.config import settings as settings_module
from tests.support.factories import enroll, published_event
from tests.support.logs import log_lines
from tests.support.stack import Stack


@pytest.mark.parametrize(
    ("values", "line"),
    [([], ""), ([0, 0], "  "), ([0, 4, 8], " ▄█"), ([1, 1], "██")],
)
def test_sparkline(values: list[int], line: str) -> None:
    assert sparkline(values) == line


def test_status_prints_jobs_and_mail(unit_stack: Stack) -> None:
    key = unit_stack.key()
    published_event(unit_stack, key, ref="s")
    enroll(unit_stack, key, "s", "ada")
    unit_stack.drain()
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


def test_healthz_and_readyz(unit_stack: Stack) -> None:
    assert unit_stack.client.get("/healthz").json() == {"status": "ok"}
    ready = unit_stack.client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ok"

    # When the SMTP server goes away, the process is alive but not ready
    unit_stack.sink.stop()
    assert unit_stack.client.get("/healthz").status_code == 200
    with log_lines("rollcall") as logs:
        down = unit_stack.client.get("/readyz")
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
    unit_stack.sink.start()
