"""Composition root of the HTTP role: Radicale with our plugins, behind a thin WSGI front.

The front answers what Radicale should not see: ``/.well-known/caldav`` from the bare host name
(iOS probes the host root), oversized bodies (Radicale enforces no limit under gunicorn or
waitress), and client DELETEs when the delete policy is ``refuse``; subscription feeds and the
one-click unsubscribe link of report mails go to their own handlers, and the hottest calendar
reads to the fast path (:mod:`caldav_backend.fast_path`).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable
from typing import Any

import radicale.config

from caldav_backend import feeds_http, request_body, unavailable
from caldav_backend.auth import Auth
from caldav_backend.fast_path import FastPath
from caldav_backend.rights import Rights
from caldav_backend.runtime import Runtime
from caldav_backend.storage import Storage
from hermes_groupware.bootstrap import database_from_settings
from hermes_groupware.config import Settings
from hermes_groupware.db.outage import DATABASE_UNAVAILABLE
from hermes_groupware.db.session import Database
from hermes_groupware.http import health, metrics, proxies
from reports import unsubscribe

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
Written = tuple[str, list[tuple[str, str]], bytes]  # status, headers, body
log = logging.getLogger(__name__)


def radicale_configuration(runtime: Runtime) -> radicale.config.Configuration:
    """Radicale's settings, all from ours: users never write a Radicale config file."""
    configuration = radicale.config.load()
    configuration.update(
        {
            "server": {"validate_path_value": "none", "validate_user_value": "minimal"},
            "auth": {
                "type": functools.partial(Auth, runtime=runtime),
                "realm": "Hermes Groupware",
                "delay": "1",
            },
            "storage": {"type": functools.partial(Storage, runtime=runtime)},
            "rights": {
                "type": functools.partial(Rights, runtime=runtime),
                "permit_delete_collection": "False",
                "permit_overwrite_collection": "False",
            },
            "web": {"type": "none"},
            "logging": {"mask_passwords": "True"},
        },
        "hermes",
        privileged=True,
    )
    return configuration


class HermesApp:
    """The WSGI application of one process, and the database pool it opened."""

    def __init__(self, wsgi: WSGIApp, database: Database) -> None:
        self._wsgi = wsgi
        self._database = database

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        return self._wsgi(environ, start_response)

    def close(self) -> None:
        """Close the pooled connections: the server stopped and this process goes on."""
        self._database.engine.dispose()


def create_app(settings: Settings) -> HermesApp:
    """The WSGI application for ``settings`` (create it after forking, one per process)."""
    runtime = Runtime(settings=settings, database=database_from_settings(settings))
    if settings.logging.level.upper() != "DEBUG":
        logging.getLogger("radicale").setLevel(logging.WARNING)
    caldav = unavailable.Application(radicale_configuration(runtime))  # outage: 503, not 500
    fast = FastPath(runtime, caldav) if settings.caldav.fast_path else None
    limit = settings.caldav.max_body_bytes
    refuse_delete = settings.caldav.delete_policy == "refuse"
    from hermes_groupware.http.api.app import create_api  # noqa: PLC0415 - Flask: HTTP role only

    api = create_api(settings, runtime.database, runtime.logins)  # /api/v1 (issue 9)
    from hermes_groupware.http.console.app import create_console  # noqa: PLC0415 - as above

    console = create_console(settings, runtime.database, runtime.logins)  # /console/

    def direct(environ: dict[str, Any], path: str) -> Written | None:
        """Answers written whole without Radicale: feeds, unsubscribe links, the fast path."""
        if feeds_http.handles(path):
            return feeds_http.respond(runtime, environ)
        if unsubscribe.handles(path):
            return unsubscribe.respond(runtime.database, settings, environ)
        return fast.respond(environ) if fast is not None else None

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        environ.pop("HTTP_X_SCRIPT_NAME", None)  # only a trusted proxy may set a prefix
        path = environ.get("PATH_INFO", "")
        if path.startswith("/api/"):  # sets its own body limits (uploads) and answers in JSON
            return api(environ, start_response)
        refusal = _front_answer(environ, limit, refuse_delete)
        if refusal is not None:
            return _answer(start_response, *refusal)
        if path == "/console" or path.startswith("/console/"):
            return console(environ, start_response)
        try:
            answer = direct(environ, path)
        except DATABASE_UNAVAILABLE:
            answer = unavailable.answer()
        if answer is not None:
            status, headers, body = answer
            start_response(status, headers)
            return [body]
        if environ.get("REQUEST_METHOD") == "PUT":
            return caldav(environ, _without_etag(start_response))
        return caldav(environ, start_response)

    operations = health.endpoints(runtime.database) | metrics.endpoints(settings, runtime.database)
    instrumented = metrics.instrumented(app, operations, max_body_bytes=limit)  # + /healthz…
    front = proxies.behind_proxies(instrumented, proxies.networks(settings.http.trusted_proxies))
    return HermesApp(front, runtime.database)


Answer = tuple[str, bytes, list[tuple[str, str]]]


def _front_answer(environ: dict[str, Any], limit: int, refuse_delete: bool) -> Answer | None:
    """What the front answers itself: discovery redirect, oversized bodies, DTDs, refusals."""
    path = environ.get("PATH_INFO", "") or "/"
    method = environ.get("REQUEST_METHOD")
    if path.rstrip("/") in ("/.well-known/caldav", "/.well-known/carddav"):
        return "301 Moved Permanently", b"", [("Location", "/")]
    if _too_large(environ, limit):
        return "413 Content Too Large", f"request body over {limit} bytes\n".encode(), []
    if _declares_entities(environ):
        return "400 Bad Request", b"XML with a DOCTYPE or entities is not accepted\n", []
    if refuse_delete and method == "DELETE" and path.endswith(".ics"):
        message = b"deleting tasks from a calendar is disabled; close them instead\n"
        return "403 Forbidden", message, []
    return None


def _without_etag(start_response: StartResponse) -> StartResponse:
    """We always store something other than the PUT body (our properties, SEQUENCE), so per
    RFC 9110 §9.3.4 and RFC 4791 §5.3.4 the response carries no ETag; clients then fetch the
    stored version instead of keeping their own copy under our tag (vdirsyncer does that)."""

    def start(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
        kept = [(name, value) for name, value in headers if name.lower() != "etag"]
        return start_response(status, kept, *exc_info)

    return start


_XML_METHODS = frozenset({"PROPFIND", "PROPPATCH", "REPORT", "MKCALENDAR", "MKCOL"})


def _declares_entities(environ: dict[str, Any]) -> bool:
    """DAV bodies never need a DTD; refusing one stops entity expansion and external entities
    before any parser runs. The (size-limited) body is put back for Radicale."""
    if environ.get("REQUEST_METHOD") not in _XML_METHODS:
        return False
    body = request_body.read(environ)
    return b"<!DOCTYPE" in body.upper() or b"<!ENTITY" in body.upper()


def _too_large(environ: dict[str, Any], limit: int) -> bool:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return True
    return length > limit or (
        "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower() and not length
    )


def _answer(
    start_response: StartResponse,
    status: str,
    body: bytes,
    headers: list[tuple[str, str]] | None = None,
) -> Iterable[bytes]:
    start_response(
        status,
        [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(body))),
            *(headers or []),
        ],
    )
    return [body]
