"""``X-Request-Id``: taken from the request when it is a sane token, else made up; set in
:data:`hermes_groupware.logs.REQUEST_ID` while the request is handled and echoed in the
response, so a client's or a proxy's id finds every log line the request caused."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from hermes_groupware.logs import REQUEST_ID

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
HEADER = "X-Request-Id"
_SANE = re.compile(r"[A-Za-z0-9._:@-]{1,128}")  # nothing that could forge a log line


def request_id(environ: dict[str, Any]) -> str:
    """The client's id when it is a sane token, else a new random one."""
    given = environ.get("HTTP_X_REQUEST_ID", "")
    return given if _SANE.fullmatch(given) else uuid.uuid4().hex


def tagged(app: WSGIApp) -> WSGIApp:
    """``app`` with the request id in the context while it runs, and in the response."""

    def with_id(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        rid = request_id(environ)
        environ["hermes.request_id"] = rid

        def start(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
            kept = [(name, value) for name, value in headers if name.lower() != "x-request-id"]
            return start_response(status, [*kept, (HEADER, rid)], *exc_info)

        token = REQUEST_ID.set(rid)
        try:
            return app(environ, start)
        finally:
            REQUEST_ID.reset(token)

    return with_id
