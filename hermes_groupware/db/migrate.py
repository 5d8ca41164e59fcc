"""Run Alembic migrations from code (``db upgrade``, tests), without an ``alembic.ini``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

from hermes_groupware.errors import SchemaOutdated

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    """An Alembic config pointing at our migrations; the engine is passed, not a URL."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema (tables and triggers) to ``revision``."""
    config = alembic_config(engine)
    with _foreign_keys_deferred(engine) as connection, connection.begin():
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


@contextmanager
def _foreign_keys_deferred(engine: Engine) -> Iterator[Connection]:
    """A connection for migrating; on SQLite with foreign keys off while the schema changes.

    A batch migration rebuilds a table by copy, drop and rename; with foreign keys on, the drop
    would cascade into the tables that reference it (feed tokens of a rebuilt ``feeds``). This
    is SQLite's documented procedure for such changes: keys off outside the transaction, then
    ``foreign_key_check`` before they are turned on again.
    """
    with engine.connect() as connection:
        if engine.dialect.name != "sqlite":
            yield connection
            return
        raw = connection.connection.driver_connection
        assert raw is not None
        raw.execute("PRAGMA foreign_keys=OFF")  # no transaction is open: it takes effect
        try:
            yield connection
            broken = raw.execute("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"migration left dangling foreign keys: {broken[:5]}")
        finally:
            raw.execute("PRAGMA foreign_keys=ON")


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for an empty database."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(engine: Engine) -> str | None:
    """The newest revision this code knows."""
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def require_current(engine: Engine) -> None:
    """Raise SchemaOutdated unless the database is at the newest revision."""
    current, head = current_revision(engine), head_revision(engine)
    if current != head:
        raise SchemaOutdated(current, head)
