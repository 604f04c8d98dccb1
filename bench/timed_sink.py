"""An SMTP sink that notes when each mail arrives: one line per mail,
``<time.time()> <first recipient>``, appended to the file it is given.

    python -m aiosmtpd -n -l 127.0.0.1:PORT -c bench.timed_sink.Recorder FILE
"""

from __future__ import annotations

import time
from argparse import ArgumentParser
from typing import Any


class Recorder:
    def __init__(self, path: str) -> None:
        self._file = open(path, "a", buffering=1)  # noqa: SIM115 (lives as long as the sink)

    @classmethod
    def from_cli(cls, _parser: ArgumentParser, path: str) -> Recorder:
        return cls(path)

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        self._file.write(f"{time.time()} {envelope.rcpt_tos[0]}\n")
        return "250 OK"
