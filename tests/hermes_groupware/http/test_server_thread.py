"""Stopping the HTTP role's waitress server while a request is still being answered."""

from __future__ import annotations

import http.client
import logging
import os
import threading
import time
from pathlib import Path

import pytest
from waitress.channel import HTTPChannel

from hermes_groupware.http.server_thread import ServerThread
from tests.conftest import DatabaseFactory, migrated
from tests.hermes_groupware.http.conftest import settings_for

#: Radicale delays a 401 by [auth] delay, exactly 1 s under pytest: a request in progress
SLOW = ("PROPFIND", "/", {"Depth": "0"})


def _open_descriptors() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


class SlowRequest(threading.Thread):
    """One anonymous request, answered after Radicale's 1 s delay."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.status: int | None = None

    def run(self) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        method, path, headers = SLOW
        connection.request(method, path, headers=headers)
        response = connection.getresponse()
        response.read()
        self.status = response.status
        connection.close()

    def started_in(self, server: ServerThread) -> None:
        """Start, and return once a request thread is answering (a connection still in the
        listen backlog would be reset by the stop, which is not what the tests are about)."""
        self.start()
        connections = server.server._map  # type: ignore[union-attr]
        dispatcher = server.server.task_dispatcher
        deadline = time.monotonic() + 10
        while dispatcher.queue or not any(
            isinstance(c, HTTPChannel) and c.requests for c in list(connections.values())
        ):
            assert time.monotonic() < deadline, "the request never reached a request thread"
            time.sleep(0.01)


@pytest.fixture
def settings_url(db_factory: DatabaseFactory) -> str:
    url = db_factory.new_url()
    migrated(url).dispose()
    return url


def test_stop_answers_the_request_in_progress_then_closes_everything_it_opened(
    settings_url: str, tmp_path: Path
) -> None:
    before = _open_descriptors()
    server = ServerThread(settings_for(settings_url, tmp_path), "127.0.0.1", 0, 2)
    server.start()
    request = SlowRequest(server.port)
    request.started_in(server)

    started = time.monotonic()
    server.stop()
    waited = time.monotonic() - started
    request.join(10)

    assert request.status == 401  # answered whole, not cut off
    assert waited > 0.5  # stop waited for it
    # listener, connections, the wake-up pipe and the app's pooled database connections
    assert _open_descriptors() <= before
    with pytest.raises(ConnectionRefusedError):
        http.client.HTTPConnection("127.0.0.1", server.port, timeout=5).connect()


def test_a_request_outlasting_the_timeout_keeps_the_wake_up_pipe_open(
    settings_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Closing the pipe under a running request thread is the bug: its last write would land
    in whatever file next takes the descriptor number."""
    server = ServerThread(settings_for(settings_url, tmp_path), "127.0.0.1", 0, 2)
    server.start()
    request = SlowRequest(server.port)
    request.started_in(server)

    with caplog.at_level(logging.WARNING, logger="hermes_groupware.http.server_thread"):
        server.stop(timeout=0)
    left_open = _open_descriptors()
    request.join(10)

    assert "request thread(s) still running; their sockets stay open" in caplog.text
    assert request.status == 401  # its response still went out
    server.stop()  # now nothing runs: the rest closes
    assert _open_descriptors() < left_open


def test_a_server_that_never_started_stops_and_closes_what_it_opened(
    settings_url: str, tmp_path: Path
) -> None:
    """``serve`` stops the HTTP role when a later role fails to start (``stop`` before the loop
    ever ran)."""
    before = _open_descriptors()
    ServerThread(settings_for(settings_url, tmp_path), "127.0.0.1", 0, 2).stop()
    assert _open_descriptors() <= before
