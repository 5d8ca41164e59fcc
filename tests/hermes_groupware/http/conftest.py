"""The HTTP application on a real waitress server on a loopback port, over a database of choice."""

from __future__ import annotations

import dataclasses
import http.client
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hermes_groupware.config import MetricsSettings, Settings
from hermes_groupware.http.server_thread import ServerThread


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


ServeApp = Callable[[Settings], AbstractContextManager[Running]]


@pytest.fixture
def serve_app() -> ServeApp:
    """Start ``create_app(settings)`` under waitress for the ``with`` block."""

    @contextmanager
    def _serve(settings: Settings) -> Iterator[Running]:
        with ServerThread(settings, "127.0.0.1", 0, 4) as server:  # as `serve` runs it
            yield Running(server.port)

    return _serve
