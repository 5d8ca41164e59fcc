"""WSGI entry point for production servers: ``gunicorn hermes_groupware.http.wsgi:application``.

The application is built on the first request in each worker process (after fork), from the
configuration that ``HERMES_CONFIG`` (or ``./config.toml``) names.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from hermes_groupware.config import load_settings
from hermes_groupware.http.app import HermesApp, StartResponse, create_app

_app: HermesApp | None = None
_lock = threading.Lock()


def application(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    """Build once per process, then serve."""
    global _app  # noqa: PLW0603 - one application per worker process, created lazily
    if _app is None:
        with _lock:
            if _app is None:
                _app = create_app(load_settings())
    return _app(environ, start_response)
