"""The local SMTP sink (aiosmtpd): every mail it receives becomes an .eml file."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope


class EmlWriter:
    """aiosmtpd handler: write each message to ``<dir>/<time>-<id>.eml``."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, _server: Any, session: Any, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        name = f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}.eml"
        tmp = self.directory / f".{name}.tmp"
        tmp.write_bytes(content)
        tmp.rename(self.directory / name)  # readers never see half a file
        return "250 Message accepted for delivery"


def start_sink(directory: Path, host: str = "127.0.0.1", port: int = 1025) -> Controller:
    controller = Controller(EmlWriter(directory), hostname=host, port=port)
    controller.start()
    return controller
