"""Settings -> engine -> :class:`Database`; core only, so every adapter can import it."""

from __future__ import annotations

from sqlalchemy import Engine

from hermes_groupware.config import Settings
from hermes_groupware.db.session import Database, make_engine, resolve_sqlite_url
from hermes_groupware.filestore import FileStore


def engine_from_settings(settings: Settings) -> Engine:
    """The engine for ``[database]``, with relative SQLite paths resolved against the config."""
    url = resolve_sqlite_url(settings.database.url, settings.base_dir)
    return make_engine(
        url,
        echo=settings.database.echo,
        busy_timeout_ms=settings.database.busy_timeout_ms,
        pool_size=settings.database.pool_size,
    )


def database_from_settings(settings: Settings) -> Database:
    """The process's :class:`Database`."""
    store = FileStore(settings.files_path, settings.files.max_file_bytes)
    return Database(engine_from_settings(settings), store)
