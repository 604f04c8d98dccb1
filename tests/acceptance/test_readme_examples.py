"""The README's shell blocks run as written, in order, against `rollcall dev`.

Every fenced block whose language is ``sh``, ``bash`` or ``console`` is run,
unless its info string says ``no-run``. The blocks are joined into one bash
script (``set -euo pipefail``), so variables and functions carry from block to
block as they would in the reader's shell; a ``console`` block contributes the
lines after its ``$ `` prompts. The script runs in a directory whose ``var/`` is
the dev stack's, with ``API`` pointing at its port and ``rollcall`` on the PATH.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support.services import free_port

pytestmark = pytest.mark.slow

README = Path(__file__).resolve().parents[2] / "README.md"
RUNNABLE = {"sh", "bash", "console"}
FENCE = re.compile(r"^```(\S*)(.*)$")


@dataclass(frozen=True)
class Block:
    line: int  # of the opening fence, 1-based
    language: str
    runnable: bool
    code: str


def readme_blocks(text: str) -> list[Block]:
    """Every fenced block, in order, with whether the test runs it."""
    blocks: list[Block] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if match is None:
            i += 1
            continue
        start, language, info = i, match.group(1), match.group(2)
        body: list[str] = []
        i += 1
        while i < len(lines) and lines[i].strip() != "```":
            body.append(lines[i])
            i += 1
        i += 1  # the closing fence
        if language == "console":
            body = _console_commands(body)
        runnable = language in RUNNABLE and "no-run" not in info.split()
        blocks.append(Block(start + 1, language, runnable, "\n".join(body)))
    return blocks


def _console_commands(lines: list[str]) -> list[str]:
    """The commands of a console block: `$ ` lines and their `\\` continuations."""
    commands: list[str] = []
    continued = False
    for line in lines:
        if continued or line.startswith("$ "):
            commands.append(line if continued else line[2:])
            continued = line.endswith("\\")
    return commands


def readme_script(text: str) -> str:
    parts = ["set -euo pipefail"]
    for block in readme_blocks(text):
        if block.runnable:
            parts.append(f"echo '>>> README.md:{block.line}' >&2\n{block.code}")
    parts.append("echo '>>> README.md: all blocks ran' >&2")
    return "\n\n".join(parts) + "\n"


def test_the_convention_finds_the_blocks() -> None:
    text = (
        "```sh\nA=1\n```\n"
        "```sh no-run\nmake dev\n```\n"
        "```console\n$ echo a \\\n  b\na b\n```\n"
        "```yaml\nx: 1\n```\n"
    )
    blocks = readme_blocks(text)
    assert [(b.line, b.language, b.runnable, b.code) for b in blocks] == [
        (1, "sh", True, "A=1"),
        (4, "sh", False, "make dev"),
        (7, "console", True, "echo a \\\n  b"),
        (12, "yaml", False, "x: 1"),
    ]
    # The README has runnable blocks at all, and its first sets up $KEY and $API
    runnable = [b for b in readme_blocks(README.read_text()) if b.runnable]
    assert len(runnable) >= 8
    assert "KEY=$(cat var/dev-api-key)" in runnable[0].code


def _text(output: str | bytes | None) -> str:
    if isinstance(output, bytes):
        return output.decode(errors="replace")
    return output or ""


def _wait_ready(api: str, process: subprocess.Popen[bytes], timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "rollcall dev exited"
        try:
            if httpx.get(f"{api}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("rollcall dev did not become ready")


def test_readme_shell_blocks_run_against_rollcall_dev(tmp_path: Path) -> None:
    missing = [tool for tool in ("bash", "curl", "jq") if shutil.which(tool) is None]
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the README examples need {missing} on the PATH")
        pytest.skip(f"the README examples need {missing} on the PATH")
    var = tmp_path / "var"
    port, redis_port, smtp_port = free_port(), free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    # Given `rollcall dev` on free ports, its var/ under the working directory
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "rollcall", "dev", "--var", str(var), "--port", str(port)),
            *("--redis-port", str(redis_port), "--smtp-port", str(smtp_port)),
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    api = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(api, process)
        # When the README's shell blocks run in order in one shell
        script = tmp_path / "readme.sh"
        script.write_text(readme_script(README.read_text()))
        try:
            ran = subprocess.run(
                ["bash", str(script)],
                cwd=tmp_path,
                env=env | {"API": api},
                capture_output=True,
                text=True,
                timeout=240,  # a block waiting for a condition that never comes
            )
            returncode, stdout, stderr = ran.returncode, ran.stdout, ran.stderr
        except subprocess.TimeoutExpired as expired:
            returncode = -1
            stdout, stderr = (_text(expired.stdout), _text(expired.stderr))
        # Then every command succeeded and every `jq -e` held
        started = [line for line in stderr.splitlines() if line.startswith(">>> ")]
        assert returncode == 0, (
            f"failed (exit {returncode}) in the block at {started[-1] if started else '?'}\n"
            f"--- stdout (end)\n{stdout[-4000:]}\n--- stderr (end)\n{stderr[-4000:]}"
        )
        assert started[-1] == ">>> README.md: all blocks ran"
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output.decode()


def test_no_block_pipes_into_a_reader_that_stops_early() -> None:
    # Under `set -o pipefail`, `curl ... | grep -q x` fails at random: grep -q
    # exits at its first match, and the writer, still writing, gets a broken
    # pipe (curl exits 23, Python raises BrokenPipeError). Such a block passes
    # or fails by timing, as one did on a loaded machine.
    stops_early = re.compile(r"\|\s*(grep\s+-\w*q|head\b)")
    for block in readme_blocks(README.read_text()):
        if block.runnable:
            for number, line in enumerate(block.code.splitlines()):
                assert not stops_early.search(line), f"README.md:{block.line + number + 1}: {line}"
