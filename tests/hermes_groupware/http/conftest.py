"""The HTTP application on a real waitress server on a loopback port, over a database of choice."""

from __future__ import annotations

import dataclasses
import http.client
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from waitress import wasyncore

from hermes_groupware.cli.roles import http_server
from hermes_groupware.config import MetricsSettings, Settings


@dataclass(frozen=True)
class Reply:
    """What one request got back."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        import json

        return json.loads(self.body)


@dataclass(frozen=True)
class Running:
    """A server on ``port``; ``request`` talks to it over a fresh connection."""

    port: int

    def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> Reply:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, path, body, headers or {})
            response = connection.getresponse()
            return Reply(
                response.status,
                {k.lower(): v for k, v in response.getheaders()},
                response.read(),
            )
        finally:
            connection.close()


def settings_for(url: str, tmp: Path, **metrics: Any) -> Settings:
    """Demo settings on ``url``, with ``[metrics]`` values as given."""
    base = Settings(base_dir=tmp)
    return dataclasses.replace(
        base,
        server=dataclasses.replace(base.server, demo=True),
        database=dataclasses.replace(base.database, url=url),
        files=dataclasses.replace(base.files, path=str(tmp / "files")),
        metrics=dataclasses.replace(MetricsSettings(), **metrics),
    )


def _run(server: Any, stopping: threading.Event) -> None:
    """The server's loop; closing its sockets from the test thread may break a ``select``
    in progress with EBADF, which is the expected end, not an error."""
    try:
        server.run()
    except OSError:
        if not stopping.is_set():
            raise


ServeApp = Callable[[Settings], AbstractContextManager[Running]]


@pytest.fixture
def serve_app() -> ServeApp:
    """Start ``create_app(settings)`` under waitress for the ``with`` block."""

    @contextmanager
    def _serve(settings: Settings) -> Iterator[Running]:
        server = http_server(settings, "127.0.0.1", 0, 4)  # as `serve` runs it
        stopping = threading.Event()
        thread = threading.Thread(target=_run, args=(server, stopping), daemon=True)
        thread.start()
        try:
            yield Running(server.effective_port)  # type: ignore[union-attr]
        finally:
            stopping.set()
            wasyncore.close_all(server._map)  # the listener and every open connection
            thread.join(timeout=10)

    return _serve
