"""Shared fixtures: a real database per dialect, a rolled-back unit of work per test, factories.

The dialect comes from ``HERMES_DATABASE_URL``: unset (or SQLite) runs on SQLite files in a
temporary directory; a PostgreSQL URL names the server, and every database the tests need is
created fresh on it (``<name>_t_<random>``) and dropped at the end.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, create_engine, make_url, text
from sqlalchemy.orm import Session

from hermes_groupware.db import migrate
from hermes_groupware.db.session import (
    Actor,
    Database,
    UnitOfWork,
    make_engine,
    set_change_context,
)
from hermes_groupware.filestore import FileStore
from hermes_groupware.models.enums import Source
from tests.factories import Factory

BASE_URL = os.environ.get("HERMES_DATABASE_URL", "")
ON_POSTGRESQL = BASE_URL.startswith("postgresql")


class DatabaseFactory:
    """Creates fresh, empty databases of the dialect under test and drops them afterwards."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.created: list[str] = []

    def new_url(self) -> str:
        """The URL of a new empty database."""
        name = f"t_{uuid.uuid4().hex[:12]}"
        if not ON_POSTGRESQL:
            return f"sqlite:///{self.tmp / (name + '.db')}"
        base = make_url(BASE_URL)
        database = f"{base.database or 'hermes'}_{name}"
        with self._admin() as conn:
            conn.execute(text(f'CREATE DATABASE "{database}"'))
        self.created.append(database)
        return base.set(database=database).render_as_string(hide_password=False)

    @contextmanager
    def _admin(self) -> Iterator[Connection]:
        admin = create_engine(
            make_url(BASE_URL).set(database="postgres"), isolation_level="AUTOCOMMIT"
        )
        try:
            with admin.connect() as conn:
                yield conn
        finally:
            admin.dispose()

    def drop_all(self) -> None:
        """Remove every database this factory made (PostgreSQL; SQLite files go with tmp)."""
        if not self.created:
            return
        with self._admin() as conn:
            for database in self.created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def db_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseFactory]:
    """Fresh databases on demand for the whole session."""
    factory = DatabaseFactory(tmp_path_factory.mktemp("db"))
    yield factory
    factory.drop_all()


def migrated(url: str) -> Engine:
    """An engine on ``url`` with the schema at head."""
    engine = make_engine(url)
    migrate.upgrade(engine)
    return engine


@pytest.fixture(scope="session")
def migrated_engine(db_factory: DatabaseFactory) -> Iterator[Engine]:
    """One migrated database shared by the rolled-back service tests."""
    engine = migrated(db_factory.new_url())
    yield engine
    engine.dispose()


@pytest.fixture
def fresh_database(db_factory: DatabaseFactory, tmp_path: Path) -> Iterator[Database]:
    """A database of its own that commits for real (journal ordering, concurrency, CLI)."""
    engine = migrated(db_factory.new_url())
    yield Database(engine, FileStore(tmp_path / "files", 10 * 1024 * 1024))
    engine.dispose()


@pytest.fixture
def uow(migrated_engine: Engine, tmp_path: Path) -> Iterator[UnitOfWork]:
    """A unit of work inside an outer transaction that is rolled back after the test."""
    conn = migrated_engine.connect()
    if conn.dialect.name == "sqlite":
        conn = conn.execution_options(sqlite_begin="BEGIN IMMEDIATE")
    outer = conn.begin()
    actor = Actor.system("test")
    set_change_context(conn, actor, Source.CLI, dt.datetime.now(dt.UTC))
    session = Session(bind=conn, join_transaction_mode="create_savepoint")
    try:
        yield UnitOfWork(
            session=session,
            actor=actor,
            source=Source.CLI,
            files=FileStore(tmp_path / "files", 1024 * 1024),
        )
    finally:
        session.close()
        outer.rollback()
        conn.close()


@pytest.fixture
def make(uow: UnitOfWork) -> Factory:
    """Factories for employees, registers, customers and tasks (as an administrator)."""
    return Factory(uow)
