"""Two server processes on one PostgreSQL database: conditional writes stay atomic."""

from __future__ import annotations

import base64
import http.client
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from hermes_groupware import demo
from hermes_groupware.db.session import Actor, Database
from hermes_groupware.filestore import FileStore
from hermes_groupware.models import CalendarObject
from hermes_groupware.models.enums import Source
from tests.conftest import ON_POSTGRESQL, DatabaseFactory, migrated
from tests.ports import free_port

pytestmark = pytest.mark.skipif(not ON_POSTGRESQL, reason="needs PostgreSQL (HERMES_DATABASE_URL)")
SCRIPT = str(Path(sys.executable).with_name("hermes-groupware"))
AUTH = "Basic " + base64.b64encode(f"jkowalski:{demo.DEMO_APP_PASSWORD}".encode()).decode()


@pytest.fixture(scope="module")
def two_servers(
    db_factory: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[list[int], Database]]:
    tmp = tmp_path_factory.mktemp("two")
    url = db_factory.new_url()
    engine = migrated(url)
    database = Database(engine, FileStore(tmp / "files", 1 << 20))
    with database.unit_of_work(Actor.system("test"), Source.CLI) as uow:
        demo.load(uow, tasks=20, seed=5, demo_mode=True)
    config = tmp / "config.toml"
    config.write_text('[server]\ndemo = true\n[logging]\nlevel = "WARNING"\n', encoding="utf-8")
    ports, processes = [free_port(), free_port()], []
    for port in ports:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HERMES_")}
        env.update(HERMES_CONFIG=str(config), HERMES_DATABASE_URL=url, HERMES_HTTP_PORT=str(port))
        process = subprocess.Popen([SCRIPT, "serve"], env=env, stdout=subprocess.PIPE, text=True)
        assert process.stdout is not None
        assert process.stdout.readline().startswith("ready")
        processes.append(process)
    try:
        yield ports, database
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=20)
            if process.stdout:
                process.stdout.close()
        engine.dispose()


def _request(
    port: int, method: str, path: str, body: str = "", headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str]]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request(method, path, body.encode(), {"Authorization": AUTH, **(headers or {})})
        response = connection.getresponse()
        response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}
    finally:
        connection.close()


def _todo(uid: str, summary: str) -> str:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VTODO\r\n"
        f"UID:{uid}\r\nDTSTAMP:20261126T100000Z\r\nSUMMARY:{summary}\r\nEND:VTODO\r\n"
        "END:VCALENDAR\r\n"
    )


def _race(
    ports: list[int], method: str, path: str, bodies: list[str], headers: dict[str, str]
) -> list[int]:
    results: list[int] = [0, 0]
    barrier = threading.Barrier(2)

    def go(i: int) -> None:
        barrier.wait()
        results[i] = _request(
            ports[i], method, path, bodies[i], {"Content-Type": "text/calendar", **headers}
        )[0]

    threads = [threading.Thread(target=go, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return sorted(results)


def test_conditional_puts_through_two_processes(two_servers: tuple[list[int], Database]) -> None:
    ports, _ = two_servers
    uid = str(uuid.uuid4())
    path = f"/jkowalski/tasks/{uid}.ics"
    assert (
        _request(ports[0], "PUT", path, _todo(uid, "Start"), {"Content-Type": "text/calendar"})[0]
        == 201
    )
    for round_ in range(8):
        status, headers = _request(ports[round_ % 2], "GET", path)
        assert status == 200
        results = _race(
            ports,
            "PUT",
            path,
            [_todo(uid, f"A{round_}"), _todo(uid, f"B{round_}")],
            {"If-Match": headers["etag"]},
        )
        assert results == [204, 412], round_


def test_the_same_new_uid_is_created_once(two_servers: tuple[list[int], Database]) -> None:
    ports, database = two_servers
    for _ in range(5):
        uid = str(uuid.uuid4())
        results = _race(
            ports,
            "PUT",
            f"/jkowalski/tasks/{uid}.ics",
            [_todo(uid, "Jeden"), _todo(uid, "Dwa")],
            {"If-None-Match": "*"},
        )
        assert results == [201, 412]
        with database.unit_of_work(Actor.system("test"), Source.CLI, read_only=True) as uow:
            count = uow.session.scalar(
                select(func.count()).select_from(CalendarObject).where(CalendarObject.uid == uid)
            )
        assert count == 1
