"""Stopping the HTTP role: requests in progress answer, then waitress closes from its own loop.

``BaseWSGIServer.close`` closed waitress's wake-up pipe while worker threads still ran; a late
wake-up wrote ``x`` into whatever reused the descriptor (CI saw ``xHTTP/1.1 403`` from
another server in the same process).
"""

from __future__ import annotations

import http.client
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest
from waitress.server import create_server

from hermes_groupware.cli import roles
from hermes_groupware.cli.roles import stop_http_server

StartResponse = Callable[..., Any]


class _Slow:
    """A WSGI app whose one request takes ``seconds``; ``started`` is set when it begins."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.started = threading.Event()

    def __call__(self, _environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        self.started.set()
        time.sleep(self.seconds)
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
        return [b"ok"]


class _Running:
    def __init__(self, app: _Slow) -> None:
        self.server: Any = create_server(app, host="127.0.0.1", port=0, threads=2)
        self.loop = threading.Thread(target=self.server.run, daemon=True)
        self.loop.start()
        self.answer: dict[str, Any] = {}
        self.client = threading.Thread(target=self._ask)
        self.client.start()
        assert app.started.wait(5)

    def _ask(self) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.server.effective_port, timeout=10)
        connection.request("GET", "/")
        response = connection.getresponse()
        self.answer = {"status": response.status, "body": response.read()}
        connection.close()


@pytest.fixture
def slow_request() -> Iterator[Callable[[float], _Running]]:
    started: list[_Running] = []

    def start(seconds: float) -> _Running:
        started.append(_Running(_Slow(seconds)))
        return started[-1]

    yield start
    for running in started:
        running.client.join(10)
        stop_http_server(running.server, running.loop)


def test_a_request_in_progress_answers_then_everything_is_closed(
    slow_request: Callable[[float], _Running],
) -> None:
    running = slow_request(0.5)
    stop_http_server(running.server, running.loop)
    running.client.join(10)
    assert running.answer == {"status": 200, "body": b"ok"}
    assert not running.loop.is_alive()
    assert not running.server.task_dispatcher.threads
    assert vars(running.server)["_map"] == {}  # listener, connections and wake-up pipe closed


def test_a_request_outliving_the_wait_keeps_the_wake_up_pipe_open(
    slow_request: Callable[[float], _Running],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(roles, "HTTP_STOP_SECONDS", 0.2)
    running = slow_request(1.5)
    with caplog.at_level(logging.WARNING, logger="hermes_groupware.cli.roles"):
        stop_http_server(running.server, running.loop)
    assert "1 HTTP request(s) still running at shutdown" in caplog.text
    assert running.loop.is_alive()  # its pipe is still there for the late wake-up
    running.client.join(10)
    assert running.answer == {"status": 200, "body": b"ok"}
