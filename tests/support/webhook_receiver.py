"""A real HTTP receiver for webhook tests (``http.server`` on a free port).

It answers each request with the next status of its script (then 200), keeps
every request it got, dedupes by ``webhook-id`` as a receiver should, and can
hold its answers (``hold``) so that a test can kill the sender mid-delivery.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str
    script: list[int] = field(default_factory=list)
    requests: list[Received] = field(default_factory=list)
    #: Set: answer at once; cleared: hold every answer until it is set again.
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    arrived: threading.Event = field(default_factory=threading.Event)

    def ids(self) -> list[str]:
        with self.lock:
            return [r.headers["webhook-id"] for r in self.requests]

    def unique(self) -> dict[str, Received]:
        """Deduped by ``webhook-id``, as a receiver is told to (first copy kept)."""
        seen: dict[str, Received] = {}
        with self.lock:
            for request in self.requests:
                seen.setdefault(request.headers["webhook-id"], request)
        return seen


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(length)
            with receiver.lock:
                receiver.requests.append(
                    Received({k.lower(): v for k, v in self.headers.items()}, body)
                )
                status = receiver.script.pop(0) if receiver.script else 200
            receiver.arrived.set()
            receiver.release.wait(timeout=120)
            self.send_response(status)
            reply = b'{"ok": true}' if status < 300 else b"nope"
            self.send_header("content-length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def webhook_receiver(script: list[int] | None = None) -> Iterator[Receiver]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(Receiver(url="")))
    receiver = Receiver(url=f"http://127.0.0.1:{server.server_port}/hook", script=script or [])
    receiver.release.set()
    server.RequestHandlerClass = _handler(receiver)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.release.set()
        server.shutdown()
        server.server_close()
