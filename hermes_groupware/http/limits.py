"""Request body limits of the HTTP role, in one place for waitress and the API.

CalDAV bodies stop at ``[caldav] max_body_bytes`` (the front refuses larger ones); a file
uploaded through the API may be as large as ``[files] max_file_bytes`` plus the form around
it, so waitress must let more than that through to the API, which answers its own 413 in JSON.
"""

from __future__ import annotations

from hermes_groupware.config import Settings

FORM_OVERHEAD = 64 * 1024  # multipart boundaries and part headers around an uploaded file


def upload_body_limit(settings: Settings) -> int:
    """The largest body of an API file upload."""
    return settings.files.max_file_bytes + FORM_OVERHEAD


def server_body_limit(settings: Settings) -> int:
    """waitress's own limit: twice the largest body the application takes, so that a body
    announced over a limit gets the application's answer (the API's 413 in JSON), and waitress
    stops only far larger ones, or a chunked body that does not end."""
    return 2 * max(settings.caldav.max_body_bytes, upload_body_limit(settings))
