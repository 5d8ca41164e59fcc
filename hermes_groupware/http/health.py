"""``/healthz`` and ``/readyz``: the probes a load balancer or an orchestrator asks.

``/healthz`` says the process answers HTTP; it touches nothing else, so a database outage never
makes a supervisor restart healthy processes. ``/readyz`` says this instance can serve: the
database answers and its schema is the one this code was built for (after a deploy that
forgot ``db upgrade`` it stays 503, with the reason). Both are open, without credentials, as
probes are; they reveal no more than the schema revision.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from hermes_groupware.db import migrate
from hermes_groupware.db.session import Database

log = logging.getLogger(__name__)
Response = tuple[str, list[tuple[str, str]], bytes]
Endpoint = Callable[[dict[str, Any]], Response]
_NO_STORE = ("Cache-Control", "no-store")


def endpoints(database: Database) -> dict[str, Endpoint]:
    """The probe paths and their handlers, for the HTTP composition root."""
    probes = Probes(database)
    return {"/healthz": probes.healthz, "/readyz": probes.readyz}


class Probes:
    """The two probes of one process; the newest schema revision is read once, at start."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.head = migrate.head_revision(database.engine)

    def healthz(self, environ: dict[str, Any]) -> Response:
        """200 ``ok`` while the process serves requests."""
        if _not_a_read(environ):
            return _method_not_allowed()
        return "200 OK", [("Content-Type", "text/plain; charset=utf-8"), _NO_STORE], b"ok\n"

    def readyz(self, environ: dict[str, Any]) -> Response:
        """200 when the database answers at the expected revision, else 503 and why (JSON)."""
        if _not_a_read(environ):
            return _method_not_allowed()
        try:
            current = migrate.current_revision(self.database.engine)
        except SQLAlchemyError as exc:
            log.warning("readyz: database unreachable: %s", type(exc).__name__)
            reason = f"database unreachable ({type(exc).__name__})"
            return _json("503 Service Unavailable", {"status": "unavailable", "reason": reason})
        if current != self.head:
            reason = (
                f"database schema at {current or '(empty)'}, this version needs {self.head}; "
                "run: hermes-groupware db upgrade"
            )
            return _json(
                "503 Service Unavailable",
                {"status": "unavailable", "reason": reason, "schema": current},
            )
        return _json("200 OK", {"status": "ready", "schema": current})


def _not_a_read(environ: dict[str, Any]) -> bool:
    return environ.get("REQUEST_METHOD", "GET") not in ("GET", "HEAD")


def _method_not_allowed() -> Response:
    headers = [("Content-Type", "text/plain; charset=utf-8"), ("Allow", "GET, HEAD")]
    return "405 Method Not Allowed", headers, b"GET or HEAD only\n"


def _json(status: str, document: dict[str, Any]) -> Response:
    body = json.dumps(document).encode() + b"\n"
    return status, [("Content-Type", "application/json"), _NO_STORE], body
