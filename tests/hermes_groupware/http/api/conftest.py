"""A real Hermes server (CalDAV front + JSON API) on a loopback port, over demo data."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import delete, select

from hermes_groupware import demo
from hermes_groupware.config import Settings
from hermes_groupware.db.session import Actor, Database, UnitOfWork
from hermes_groupware.filestore import FileStore
from hermes_groupware.http.server_thread import ServerThread
from hermes_groupware.models import Employee, LoginFailure
from hermes_groupware.models.enums import Source
from hermes_groupware.services import api_tokens
from hermes_groupware.services.directory import actor_for
from tests.conftest import DatabaseFactory, migrated
from tests.hermes_groupware.http.conftest import settings_for

PASSWORD = demo.DEMO_APP_PASSWORD


@dataclass
class ApiServer:
    """The running server, its database, and helpers to call it as someone."""

    base: str
    database: Database
    settings: Settings
    http: requests.Session

    def url(self, path: str) -> str:
        """``/tasks`` → ``http://127.0.0.1:PORT/api/v1/tasks``."""
        return f"{self.base}/api/v1{path}"

    def call(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        login: str | None = None,
        password: str = PASSWORD,
        **kwargs: Any,
    ) -> requests.Response:
        """One request with a bearer token, or Basic as ``login``, or no credentials."""
        headers = dict(kwargs.pop("headers", {}))
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        auth = (login, password) if login is not None else None
        return self.http.request(
            method, self.url(path), headers=headers, auth=auth, timeout=30, **kwargs
        )

    def uow(self, actor: Actor | None = None) -> AbstractContextManager[UnitOfWork]:
        """A unit of work on the server's database (setup and checks)."""
        return self.database.unit_of_work(actor or Actor.system("test"), Source.CLI)

    def actor(self, login: str) -> Actor:
        """The actor of an employee."""
        with self.uow() as uow:
            employee = uow.session.scalar(select(Employee).where(Employee.login == login))
            assert employee is not None
            return actor_for(employee)

    def token(
        self,
        login: str,
        scopes: tuple[str, ...] = ("read", "write"),
        *,
        days: int = 30,
    ) -> str:
        """A fresh API token of ``login`` (made through the service, as the owner)."""
        with self.uow(self.actor(login)) as uow:
            _view, token = api_tokens.create_token(
                uow,
                name=f"test {'+'.join(scopes)}",
                scopes=list(scopes),
                lifetime=dt.timedelta(days=days),
                granted=frozenset(api_tokens.SCOPES),
            )
        return token

    def clear_login_failures(self) -> None:
        """Forget failed logins (the address counter is shared by every test)."""
        with self.uow() as uow:
            uow.session.execute(delete(LoginFailure))


@contextmanager
def serving(settings: Settings) -> Iterator[str]:
    """Serve ``create_app(settings)`` as ``serve`` does, in a thread; yields the base URL."""
    with ServerThread(settings, "127.0.0.1", 0, 4) as server:
        yield f"http://127.0.0.1:{server.port}"


@contextmanager
def demo_database(db_factory: DatabaseFactory, tmp: Path) -> Iterator[tuple[Settings, Database]]:
    """A database of its own with 40 demo tasks, and demo settings on it (API and console)."""
    url = db_factory.new_url()
    engine = migrated(url)
    database = Database(engine, FileStore(tmp / "files", 1 << 20))
    with database.unit_of_work(Actor.system("test"), Source.CLI) as uow:
        demo.load(uow, tasks=40, seed=11, demo_mode=True)
    try:
        yield settings_for(url, tmp), database
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def api_server(
    db_factory: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ApiServer]:
    """One server per test module over 40 demo tasks (tests create what they change)."""
    with (
        demo_database(db_factory, tmp_path_factory.mktemp("api")) as (settings, database),
        serving(settings) as base,
        requests.Session() as http,
    ):
        yield ApiServer(base=base, database=database, settings=settings, http=http)
