"""The request body, read once by whoever looks at it first and put back for the next reader.

The front (DTD refusal), the fast path and Radicale all read the body of a CalDAV request;
WSGI's ``wsgi.input`` can be read only once. The front has already refused bodies over
``[caldav] max_body_bytes`` and lengths that are not numbers.
"""

from __future__ import annotations

import io
from typing import Any


def read(environ: dict[str, Any]) -> bytes:
    """The whole body; ``environ`` gets a fresh stream of it."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body
