"""``rollcall worker`` consumes every queue, one (``--queue``), or all but some
(``--without``): the Procfile runs the webhooks queue in a worker of its own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from rollcall.cli import commands


def argv(monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, list[str]]:
    seen: list[str] = []

    def fake_execv(_path: str, command: list[str]) -> Any:
        seen.extend(command)

    monkeypatch.setattr(commands.os, "execv", fake_execv)
    monkeypatch.setattr(commands, "_size_pool", lambda threads: None)
    result = CliRunner().invoke(commands.main, ["worker", *args])
    return result.exit_code, seen


def queues_of(command: list[str]) -> list[str]:
    start = command.index("--queues") + 1
    rest = command[start:]
    return [q for q in rest if not q.startswith("-")]


def test_every_queue_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    code, command = argv(monkeypatch)
    assert code == 0
    assert sorted(queues_of(command)) == ["calendar", "jobs", "mail", "webhooks"]


def test_one_queue_or_all_but_one(monkeypatch: pytest.MonkeyPatch) -> None:
    assert queues_of(argv(monkeypatch, "--queue", "webhooks")[1]) == ["webhooks"]
    assert sorted(queues_of(argv(monkeypatch, "--without", "webhooks")[1])) == [
        "calendar",
        "jobs",
        "mail",
    ]


def test_an_unknown_queue_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    code, command = argv(monkeypatch, "--queue", "nope")
    assert code != 0 and command == []


def test_the_procfile_runs_every_queue_once() -> None:
    procfile = (Path(__file__).parents[2] / "Procfile").read_text()
    assert "worker: rollcall worker --processes 2 --threads 8 --without webhooks" in procfile
    assert "webhooks: rollcall worker --processes 1 --threads 8 --queue webhooks" in procfile


def test_the_worker_polls_an_empty_queue_at_most_every_worker_idle_poll_ms(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Dramatiq's own default is 1,000 ms: a message then waits up to a second
    # for an idle worker, at each of its hops (the job, then its mail).
    # (set first so that the test leaves the environment as it found it)
    monkeypatch.setenv("dramatiq_worker_timeout", "unset")
    monkeypatch.setenv("WORKER_IDLE_POLL_MS", "250")
    from rollcall.config import settings as settings_module

    settings_module.get_settings.cache_clear()
    code, _command = argv(monkeypatch)
    assert code == 0
    assert commands.os.environ["dramatiq_worker_timeout"] == "250"


def test_the_idle_poll_defaults_to_a_tenth_of_a_second() -> None:
    from rollcall.config.settings import Settings, dramatiq_env

    assert dramatiq_env(Settings()) == {"dramatiq_worker_timeout": "100"}
