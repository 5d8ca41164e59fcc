"""A real Hermes CalDAV server on a loopback port, over a fresh database with demo data."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import caldav
import pytest

from hermes_groupware import demo
from hermes_groupware.config import Settings
from hermes_groupware.db.session import Actor, Database
from hermes_groupware.http.server_thread import ServerThread
from hermes_groupware.models.enums import Source
from tests.conftest import DatabaseFactory, migrated

PASSWORD = demo.DEMO_APP_PASSWORD


@dataclass
class Server:
    """The running server and the database behind it."""

    url: str
    database: Database
    settings: Settings
    clients: list[caldav.DAVClient] = field(default_factory=list)

    def client(self, login: str, password: str = PASSWORD) -> caldav.DAVClient:
        """A caldav client logged in as ``login``, pointed at the bare host (closed at the end)."""
        client = caldav.DAVClient(url=self.url, username=login, password=password, timeout=30)
        self.clients.append(client)
        return client

    def close_clients(self) -> None:
        """Close every client's connections (keep-alive sockets would warn when collected)."""
        for client in self.clients:
            client.close()
        self.clients.clear()

    def uow(self, actor: Actor | None = None):  # type: ignore[no-untyped-def]
        """A unit of work on the server's database (to check what the server did)."""
        return self.database.unit_of_work(actor or Actor.system("test"), Source.CLI)


def start_server(settings: Settings) -> tuple[str, ServerThread]:
    """The server as ``serve`` runs it, started; its URL at the bare host."""
    server = ServerThread(settings, "127.0.0.1", 0, 4)
    server.start()
    return f"http://127.0.0.1:{server.port}/", server


@pytest.fixture(scope="module")
def dav_server(
    db_factory: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """One server per test module, with 60 demo tasks (tests create what they change)."""
    tmp = tmp_path_factory.mktemp("dav")
    url = db_factory.new_url()
    engine = migrated(url)
    settings = dataclasses.replace(
        Settings(base_dir=Path(tmp)),
        server=dataclasses.replace(Settings().server, demo=True),
        database=dataclasses.replace(Settings().database, url=url),
        files=dataclasses.replace(Settings().files, path=str(tmp / "files")),
    )
    from hermes_groupware.filestore import FileStore

    database = Database(engine, FileStore(tmp / "files", 1 << 20))
    with database.unit_of_work(Actor.system("test"), Source.CLI) as uow:
        demo.load(uow, tasks=60, seed=11, demo_mode=True)
    base, server = start_server(settings)
    running = Server(url=base, database=database, settings=settings)
    try:
        yield running
    finally:
        running.close_clients()
        server.stop()
        engine.dispose()


@pytest.fixture(autouse=True)
def _close_clients(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test's clients are closed when it ends."""
    yield
    if "dav_server" in request.fixturenames:
        request.getfixturevalue("dav_server").close_clients()
