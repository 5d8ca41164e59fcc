"""``X-Request-Id`` through a real server, and in the log lines a request causes."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from hermes_groupware.config import LoggingSettings
from hermes_groupware.logs import JsonFormatter, RequestIdFilter, TextFormatter
from tests.conftest import DatabaseFactory, migrated
from tests.hermes_groupware.http.conftest import Running, ServeApp, settings_for
from tests.ports import free_port

SCRIPT = str(Path(sys.executable).with_name("hermes-groupware"))


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """Root log records as JSON lines, as ``[logging] format = "json"`` writes them."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield stream
    finally:
        root.removeHandler(handler)


def test_the_id_is_honoured_made_up_or_replaced_and_echoed(
    db_factory: DatabaseFactory, tmp_path: Path, serve_app: ServeApp
) -> None:
    url = db_factory.new_url()
    migrated(url).dispose()
    with serve_app(settings_for(url, tmp_path)) as server:
        given = server.request("GET", "/healthz", headers={"X-Request-Id": "lb-7f3a:42"})
        made_up = server.request("GET", "/readyz")
        other = server.request("GET", "/readyz")
        forged = server.request("GET", "/healthz", headers={"X-Request-Id": "x" * 129})
        spaced = server.request("PROPFIND", "/", headers={"X-Request-Id": "a b"})
    assert given.headers["x-request-id"] == "lb-7f3a:42"
    assert re.fullmatch(r"[0-9a-f]{32}", made_up.headers["x-request-id"])
    assert made_up.headers["x-request-id"] != other.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", forged.headers["x-request-id"])
    assert spaced.status == 401  # Radicale's answer, tagged like every other
    assert re.fullmatch(r"[0-9a-f]{32}", spaced.headers["x-request-id"])


def test_records_logged_while_handling_a_request_carry_its_id(
    tmp_path: Path, serve_app: ServeApp, captured: io.StringIO
) -> None:
    nowhere = f"postgresql+psycopg://hermes@127.0.0.1:{free_port()}/hermes"
    logging.getLogger("tests").warning("outside any request")
    with serve_app(settings_for(nowhere, tmp_path)) as server:
        reply = server.request("GET", "/readyz", headers={"X-Request-Id": "probe-7"})
    assert reply.status == 503
    records = [json.loads(line) for line in captured.getvalue().splitlines()]
    (outside,) = [r for r in records if r["message"] == "outside any request"]
    assert "request_id" not in outside
    (warning,) = [r for r in records if r["logger"] == "hermes_groupware.http.health"]
    assert warning["request_id"] == "probe-7"
    assert warning["level"] == "WARNING"
    assert warning["message"] == "readyz: database unreachable: OperationalError"


def test_text_lines_name_the_request_too() -> None:
    record = logging.LogRecord("hermes", logging.INFO, __file__, 1, "sent %s", ("x",), None)
    record.request_id = "r-1"
    assert TextFormatter().format(record).endswith("INFO hermes: sent x [request r-1]")
    record.request_id = None
    assert TextFormatter().format(record).endswith("INFO hermes: sent x")
    assert LoggingSettings().format == "text"


def test_serve_writes_json_lines_with_request_ids(
    db_factory: DatabaseFactory, tmp_path: Path
) -> None:
    url = db_factory.new_url()
    migrated(url).dispose()
    config = tmp_path / "config.toml"
    config.write_text('[server]\ndemo = true\n[logging]\nformat = "json"\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HERMES_")}
    port = free_port()
    env.update(
        HERMES_CONFIG=str(config),
        HERMES_DATABASE_URL=url,
        HERMES_HTTP_PORT=str(port),
        HERMES_LOGGING_LEVEL="DEBUG",  # Radicale logs every request then
    )
    log = tmp_path / "serve.log"
    with log.open("w") as stderr, subprocess.Popen(
        [SCRIPT, "serve", "--roles", "http"], env=env, stdout=subprocess.PIPE, stderr=stderr,
        text=True,
    ) as process:
        assert process.stdout is not None
        try:
            assert process.stdout.readline().startswith("ready http://")
            reply = Running(port).request("PROPFIND", "/", headers={"X-Request-Id": "trace-99"})
        finally:
            process.terminate()
            assert process.wait(timeout=30) == 0
    assert reply.headers["x-request-id"] == "trace-99"
    records = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    assert {"time", "level", "logger", "message"} <= set(records[0])
    tagged = [r for r in records if r.get("request_id") == "trace-99"]
    assert tagged, "no record of the request carried its id"
    assert any(r["logger"].startswith("radicale") for r in tagged)
