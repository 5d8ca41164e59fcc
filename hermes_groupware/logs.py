"""Logging set-up: plain lines or one JSON object per line, each with the request id.

The HTTP front puts the id of the request in hand into :data:`REQUEST_ID` (a context variable,
so each worker thread sees its own), and every record logged while it is handled carries it,
whichever library logs it: everything one request caused can be found by that id.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from contextvars import ContextVar

from hermes_groupware.config import LoggingSettings

REQUEST_ID: ContextVar[str | None] = ContextVar("hermes_request_id", default=None)
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` (or None) to every record passing the handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Always lets the record through."""
        record.request_id = REQUEST_ID.get()
        return True


class TextFormatter(logging.Formatter):
    """``time LEVEL logger: message``, and `` [request <id>]`` while a request is handled."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        """The usual line, with the request id when there is one."""
        line = super().format(record)
        request_id = getattr(record, "request_id", None)
        return f"{line} [request {request_id}]" if request_id else line


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC), level, logger, message, request_id, exception."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a single line of JSON."""
        document: dict[str, object] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id:
            document["request_id"] = request_id
        if record.exc_info:
            document["exception"] = self.formatException(record.exc_info)
        return json.dumps(document, ensure_ascii=False)


def configure(settings: LoggingSettings) -> None:
    """The root handler on stderr, in ``[logging] format`` at ``[logging] level``."""
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    json_lines = settings.format == "json"
    handler.setFormatter(JsonFormatter() if json_lines else TextFormatter())
    logging.basicConfig(level=settings.level.upper(), handlers=[handler])
