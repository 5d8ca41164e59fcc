"""A database that cannot be reached: every CalDAV and feed request answers 503 + Retry-After.

The server starts on the URL of a PostgreSQL port nobody listens on (runs in the SQLite pass
too). Radicale would answer 500 for an exception in a method or in the login, so this checks
both paths and the front's own answers (fast path, feeds). The restart with a real outage is
``tests/hermes_groupware/cli/test_faults_postgres_restart.py``.
"""

from __future__ import annotations

import base64
import dataclasses
import http.client
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

from hermes_groupware import demo
from hermes_groupware.config import Settings
from tests.caldav_backend.conftest import start_server
from tests.ports import free_port

AUTH = "Basic " + base64.b64encode(f"jkowalski:{demo.DEMO_APP_PASSWORD}".encode()).decode()
TODO = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VTODO\r\nUID:x\r\nEND:VTODO\r\nEND:VCALENDAR\r\n"
REQUESTS = [
    ("PROPFIND", "/jkowalski/", ""),  # Radicale: the login reads the database
    (
        "REPORT",
        "/jkowalski/tasks/",
        "<sync-collection xmlns='DAV:'><sync-token/></sync-collection>",
    ),
    ("PUT", "/jkowalski/tasks/x.ics", TODO),
    ("GET", "/feeds/abcdefghijklmnopqrstuvwxyz012345.ics", ""),
    ("GET", "/api/v1/me", ""),  # the API's own 503 (JSON)
]


@pytest.fixture(scope="module")
def unreachable(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("down")
    base = Settings(base_dir=Path(tmp))
    url = f"postgresql+psycopg://hermes@127.0.0.1:{free_port()}/hermes?connect_timeout=2"
    settings = dataclasses.replace(
        base,
        server=dataclasses.replace(base.server, demo=True),
        database=dataclasses.replace(base.database, url=url),
        files=dataclasses.replace(base.files, path=str(tmp / "files")),
    )
    address, server = start_server(settings)
    try:
        yield address
    finally:
        server.stop()


@pytest.mark.parametrize(("method", "path", "body"), REQUESTS, ids=[r[0] + r[1] for r in REQUESTS])
def test_an_unreachable_database_answers_503_with_retry_after(
    unreachable: str, method: str, path: str, body: str
) -> None:
    url = urlparse(unreachable)
    connection = http.client.HTTPConnection(url.hostname or "", url.port, timeout=30)
    try:
        headers = {"Authorization": AUTH, "Depth": "1", "Content-Type": "text/calendar"}
        connection.request(method, path, body.encode(), headers)
        response = connection.getresponse()
        response.read()
    finally:
        connection.close()
    assert (response.status, response.getheader("Retry-After")) == (503, "5")
