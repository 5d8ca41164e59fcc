"""A database outage answers CalDAV clients ``503`` with ``Retry-After``, never ``500``.

Radicale turns every exception of a method into a ``500``, which clients show as an error
and balancers count against the instance. An outage is temporary, so the methods and the
login that Radicale runs are wrapped here, and the front's own answers (fast path, feeds)
use :func:`answer` too.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from radicale.app import Application as RadicaleApplication

from hermes_groupware.db.outage import DATABASE_UNAVAILABLE, cause

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 5
STATUS = "503 Service Unavailable"
BODY = b"The database is unavailable; try again in a few seconds.\n"
HEADERS = (("Content-Type", "text/plain; charset=utf-8"), ("Retry-After", str(RETRY_AFTER_SECONDS)))


def answer() -> tuple[str, list[tuple[str, str]], bytes]:
    """Status, headers and body of the outage answer."""
    return STATUS, [*HEADERS, ("Content-Length", str(len(BODY)))], BODY


def _logged(exc: Exception) -> None:
    log.warning("database unavailable, answered 503: %s: %s", type(exc).__name__, cause(exc))


class Application(RadicaleApplication):
    """Radicale with the outage answer for its methods and for the login before them."""

    def _handle_request(
        self, environ: Mapping[str, Any]
    ) -> tuple[str, list[tuple[str, str]], Iterable[bytes]]:
        try:
            return super()._handle_request(environ)
        except DATABASE_UNAVAILABLE as exc:
            _logged(exc)
            status, headers, body = answer()
            return status, headers, [body]


def _answering_503(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def wrapped(self: RadicaleApplication, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except DATABASE_UNAVAILABLE as exc:
            _logged(exc)
            return 503, HEADERS, BODY.decode(), None

    return wrapped


for _name in [name for name in dir(RadicaleApplication) if name.startswith("do_")]:
    setattr(Application, _name, _answering_503(getattr(RadicaleApplication, _name)))
