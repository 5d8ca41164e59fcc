"""A real local HTTP server standing in for an SMS gateway: records requests, answers as told.

Mocks only at the edge we cannot reach, and then on the wire: escaping, auth and the
temporary/permanent split are checked against what this server saw.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast


@dataclasses.dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclasses.dataclass
class FakeGateway:
    """What the server saw and what it will answer next."""

    url: str = ""
    status: int = 200
    body: bytes = b'{"count": 1, "list": [{"id": "17.0001", "points": 0.16}]}'
    extra_headers: dict[str, str] = dataclasses.field(default_factory=dict)
    delay: float = 0.0
    release: threading.Event = dataclasses.field(default_factory=threading.Event)
    requests: list[Recorded] = dataclasses.field(default_factory=list)


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # server_close() joins the handlers: no thread outlives a test

    def __init__(self, fake: FakeGateway) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake

    def handle_error(self, request: Any, client_address: Any) -> None:
        """The timeout test hangs up before the answer; writing to it fails, as it should."""


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self._answer()

    def do_GET(self) -> None:
        self._answer()

    def _answer(self) -> None:
        fake = cast(_Server, self.server).fake
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        fake.requests.append(Recorded(self.command, self.path, dict(self.headers.items()), body))
        if fake.delay:
            fake.release.wait(fake.delay)
        self.send_response(fake.status)
        for name, value in fake.extra_headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(fake.body)))
        self.end_headers()
        self.wfile.write(fake.body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: pytest shows stderr of failing tests and this is noise there."""


@contextmanager
def running_gateway() -> Iterator[FakeGateway]:
    """A fake gateway on a loopback port until the block ends (its handlers joined)."""
    fake = FakeGateway()
    server = _Server(fake)
    host, port = server.server_address[:2]
    fake.url = f"http://{host!s}:{port}/sms.do"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield fake
    finally:
        fake.release.set()
        server.shutdown()
        server.server_close()
        thread.join()
