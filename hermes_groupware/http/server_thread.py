"""waitress in a thread of this process, as ``serve`` runs it, and a stop that corrupts nothing.

waitress's own ``close()`` closes its wake-up pipe while request threads may still be
answering. A thread that finishes a response afterwards writes one byte to the pipe's old
descriptor number, which by then may belong to a database file or another connection of this
process (a test once received ``xHTTP/1.1 403``). Here the request threads are waited for
first, and the sockets and the pipe are closed by the loop thread itself.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, cast

from waitress import wasyncore
from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer, MultiSocketServer, create_server
from waitress.trigger import trigger as WakeUp

from hermes_groupware.config import Settings
from hermes_groupware.http.app import create_app
from hermes_groupware.http.limits import server_body_limit

log = logging.getLogger(__name__)

STOP_TIMEOUT_SECONDS = 10


class ServerThread:
    """One waitress server over one :class:`HermesApp`: ``start``, then ``stop`` (once more
    after a stop that timed out, to close what that one had to leave open)."""

    def __init__(self, settings: Settings, host: str, port: int, threads: int) -> None:
        self.app = create_app(settings)
        self.server: BaseWSGIServer | MultiSocketServer = create_server(
            self.app,
            host=host,
            port=port,
            threads=threads,
            ident="Hermes Groupware",
            channel_timeout=120,
            max_request_body_size=server_body_limit(settings),
            # forwarding headers reach the application, which honours them from [http]
            # trusted_proxies only (waitress would drop them, or trust one proxy by its own rules)
            clear_untrusted_proxy_headers=False,
        )
        self._loop = threading.Thread(target=self.server.run, name="http", daemon=True)

    @property
    def port(self) -> int:
        """The bound port (the one asked for, or the one the system chose for 0)."""
        server = self.server
        if isinstance(server, MultiSocketServer):
            return int(server.effective_listen[0][1])
        return int(server.effective_port)  # type: ignore[attr-defined] # missing in the stubs

    def start(self) -> None:
        self._loop.start()

    def __enter__(self) -> ServerThread:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def stop(self, timeout: int = STOP_TIMEOUT_SECONDS) -> None:
        """Stop accepting, let requests in progress finish and their answers go out (up to
        ``timeout`` each), then close every socket and the wake-up pipe in the loop thread and
        release the app's database pool."""
        socket_map = _socket_map(self.server)
        listeners = [d for d in socket_map.values() if isinstance(d, BaseWSGIServer)]

        def stop_accepting() -> None:  # not the servers' own close(): it closes the pipe too
            for listener in listeners:
                wasyncore.dispatcher.close(listener)

        self._in_loop(socket_map, stop_accepting)
        dispatcher = self.server.task_dispatcher
        dispatcher.shutdown(cancel_pending=True, timeout=timeout)
        if dispatcher.threads:
            # a late response would write into a closed descriptor: keep the pipe open
            left = len(dispatcher.threads)
            log.warning("%d request thread(s) still running; their sockets stay open", left)
            return
        if self._loop.is_alive():
            _wait_until_sent(socket_map, timeout)
        self._in_loop(socket_map, lambda: wasyncore.close_all(socket_map))
        if self._loop.is_alive():
            self._loop.join(timeout)
        self.app.close()

    def _in_loop(self, socket_map: dict[int, Any], action: Callable[[], object]) -> None:
        """Run ``action`` in the loop thread (now, here, when the loop is not running)."""
        if not self._loop.is_alive():
            action()
            return
        wake_up = next(d for d in socket_map.values() if isinstance(d, WakeUp))
        done = threading.Event()

        def run(_: object = None) -> None:  # waitress calls it with no argument
            try:
                action()
            finally:
                done.set()

        wake_up.pull_trigger(run)
        done.wait(STOP_TIMEOUT_SECONDS)


def _wait_until_sent(socket_map: dict[int, Any], timeout: float) -> None:
    """Until the loop thread has written out every finished response (or ``timeout``): a
    connection closed with bytes unsent is reset, and its client loses the answer."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(
        isinstance(d, HTTPChannel) and d.total_outbufs_len for d in list(socket_map.values())
    ):
        time.sleep(0.01)


def _socket_map(server: BaseWSGIServer | MultiSocketServer) -> dict[int, Any]:
    """Every listener, connection and wake-up pipe of ``server`` (waitress calls it a map)."""
    if isinstance(server, MultiSocketServer):
        return cast(dict[int, Any], server.map)
    return cast(dict[int, Any], server._map)  # type: ignore[attr-defined]
