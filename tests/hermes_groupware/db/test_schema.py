"""``db upgrade`` on an empty database gives exactly the models' schema, triggers included."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from hermes_groupware.db import migrate
from hermes_groupware.db.base import Base
from hermes_groupware.models import Task  # noqa: F401  (all models registered)


def test_migrations_match_the_models(migrated_engine: Engine) -> None:
    with migrated_engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_database_is_at_head(migrated_engine: Engine) -> None:
    assert migrate.current_revision(migrated_engine) == migrate.head_revision(migrated_engine)
    assert set(inspect(migrated_engine).get_table_names()) >= set(Base.metadata.tables)


def test_triggers_are_installed(migrated_engine: Engine) -> None:
    with migrated_engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            names = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
        else:
            names = conn.execute(
                text(
                    "SELECT tgname FROM pg_trigger "
                    "WHERE NOT tgisinternal AND tgname LIKE 'hermes_%'"
                )
            )
        found = {n for (n,) in names}
    tables = ("tasks", "task_items", "custom_field_values", "task_reminders")
    assert all(any(name.startswith(f"hermes_{t}_") for name in found) for t in tables)
