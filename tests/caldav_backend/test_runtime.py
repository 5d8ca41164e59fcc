"""The runtime: the catch-up before reads (a busy SQLite database defers it instead of
failing) and the cached account of a login."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import func, make_url, select, text, update

from caldav_backend.runtime import Runtime
from hermes_groupware.config import Settings
from hermes_groupware.db import migrate
from hermes_groupware.db.session import Actor, Database, make_engine
from hermes_groupware.errors import PermissionDenied
from hermes_groupware.filestore import FileStore
from hermes_groupware.models import Employee, Task
from hermes_groupware.models.enums import AccessLevel, Source
from hermes_groupware.services.tasks import create_task
from sync import projection
from tests.conftest import ON_POSTGRESQL, DatabaseFactory
from tests.factories import Factory


@pytest.mark.skipif(ON_POSTGRESQL, reason="SQLite's write lock; PostgreSQL waits on row locks")
def test_a_read_while_another_process_writes_serves_the_older_state(
    db_factory: DatabaseFactory, tmp_path: Path
) -> None:
    url = db_factory.new_url()
    engine = make_engine(url, busy_timeout_ms=200)
    migrate.upgrade(engine)
    database = Database(engine, FileStore(tmp_path / "files", 1 << 20))
    with database.unit_of_work(Actor.system("test"), Source.CLI) as uow:
        make = Factory(uow)
        make.task(make.register(), make.employee(), "Nowe zadanie")
    runtime = Runtime(settings=Settings(base_dir=tmp_path), database=database)
    with engine.connect() as conn:
        assert projection.is_behind(conn)

    other = sqlite3.connect(make_url(url).database or "", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        runtime.ensure_current()  # no error: the catch-up waits for the next request
        with engine.connect() as conn:
            assert projection.is_behind(conn)
    finally:
        other.execute("ROLLBACK")
        other.close()

    runtime.ensure_current()
    with engine.connect() as conn:
        assert not projection.is_behind(conn)
    engine.dispose()


@pytest.mark.skipif(not ON_POSTGRESQL, reason="PostgreSQL's planner statistics")
def test_a_large_catch_up_refreshes_the_planner_statistics(
    db_factory: DatabaseFactory, tmp_path: Path
) -> None:
    engine = make_engine(db_factory.new_url())
    migrate.upgrade(engine)
    database = Database(engine, FileStore(tmp_path / "files", 1 << 20))
    with database.unit_of_work(Actor.system("test"), Source.CLI) as uow:
        make = Factory(uow)
        register, employee = make.register(), make.employee()
        first = make.task(register, employee, "Pierwsze")
        columns = (
            "number, register_id, subject, description, status, priority, all_day, "
            "responsible_id, creator_id, visibility, categories, created_at, updated_at, version"
        )
        uow.session.execute(  # the desktop application's bulk import: plain SQL
            text(
                f"INSERT INTO tasks ({columns}) SELECT 'BULK/' || n, register_id, subject || n, "
                "description, status, priority, all_day, responsible_id, creator_id, visibility, "
                "categories, created_at, updated_at, version "
                "FROM tasks CROSS JOIN generate_series(1, 1200) AS n WHERE id = :id"
            ),
            {"id": first.id},
        )
    runtime = Runtime(settings=Settings(base_dir=tmp_path), database=database)
    analyzed = text(
        "SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'calendar_objects'"
    )
    with engine.connect() as conn:
        assert conn.scalar(analyzed) is None
    runtime.ensure_current()
    with engine.connect() as conn:
        assert conn.scalar(analyzed) is not None
    engine.dispose()


def test_a_login_disabled_within_the_account_cache_cannot_write(
    db_factory: DatabaseFactory, tmp_path: Path
) -> None:
    """The actor is cached with the home for a few seconds; the services still check, inside
    the write transaction, that the employee is active."""
    engine = make_engine(db_factory.new_url())
    migrate.upgrade(engine)
    database = Database(engine, FileStore(tmp_path / "files", 1 << 20))
    with database.unit_of_work(Actor.system("test"), Source.CLI) as uow:
        make = Factory(uow)
        register = make.register(default_access=AccessLevel.EDIT)
        rep = make.employee("rep")
    runtime = Runtime(settings=Settings(base_dir=tmp_path), database=database)
    assert runtime.actor("rep").employee_id == rep.id  # cached from here on
    assert [c.slug for c in runtime.home("rep")]

    with database.unit_of_work(Actor.system("test"), Source.CLI) as uow:
        uow.session.execute(update(Employee).where(Employee.id == rep.id).values(is_active=False))

    assert runtime.actor("rep").employee_id == rep.id  # still the cached account
    with pytest.raises(PermissionDenied), runtime.writing("rep") as uow:
        create_task(uow, register_id=register.id, subject="Po wyłączeniu konta")
    with database.unit_of_work(Actor.system("test"), Source.CLI) as uow:
        assert uow.session.scalar(select(func.count()).select_from(Task)) == 0
    engine.dispose()
