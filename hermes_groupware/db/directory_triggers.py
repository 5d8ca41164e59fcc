"""Triggers that count directory changes, for the calendar projection.

A task's rendering depends on more than its own row: the register's name, colour and default
access, the responsible employee's login, time zone and whether they are active, and who is in
which group (team calendars). A change to any of these bumps
``journal_counter.directory_version``, and the projection then re-renders every task
(:func:`sync.projection.catch_up`, in chunks). Triggers rather than service calls, so that the
desktop application's plain SQL counts too, like everything the change journal sees.

As with :mod:`hermes_groupware.db.triggers`: a later SQLite migration that rebuilds one of these
tables drops its triggers and must create them again.
"""

from __future__ import annotations

#: table -> the columns whose change matters (None: any insert, update or delete)
WATCHED: dict[str, tuple[str, ...] | None] = {
    "registers": ("name", "colour", "default_access", "is_active"),
    "employees": ("login", "time_zone", "is_active"),
    "groups": ("slug",),
    "group_members": None,
}
_OPS = ("INSERT", "UPDATE", "DELETE")
_BUMP = "UPDATE journal_counter SET directory_version = directory_version + 1 WHERE id = 1;"


def create_statements(dialect: str) -> list[str]:
    """The trigger DDL for ``sqlite`` or ``postgresql``."""
    return _sqlite_create() if dialect == "sqlite" else _postgresql_create()


def drop_statements(dialect: str) -> list[str]:
    """The reverse of :func:`create_statements`."""
    if dialect == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {name}" for name, _ in _sqlite_triggers()]
    drops = [f"DROP TRIGGER IF EXISTS hermes_{table}_directory ON {table}" for table in WATCHED]
    return [*drops, "DROP FUNCTION IF EXISTS hermes_directory_changed()"]


def _changed(columns: tuple[str, ...], distinct: str) -> str:
    return " OR ".join(f"OLD.{column} {distinct} NEW.{column}" for column in columns)


def _sqlite_triggers() -> list[tuple[str, str]]:
    """(name, what it fires on) per SQLite trigger: one per table and operation."""
    found = []
    for table, columns in WATCHED.items():
        if columns is None:
            found += [(f"hermes_{table}_{op.lower()}_directory", f"{op} ON {table}") for op in _OPS]
        else:
            fires = f"UPDATE OF {', '.join(columns)} ON {table} FOR EACH ROW "
            fires += f"WHEN {_changed(columns, 'IS NOT')}"
            found.append((f"hermes_{table}_update_directory", fires))
    return found


def _sqlite_create() -> list[str]:
    return [
        f"CREATE TRIGGER {name} AFTER {fires} BEGIN\n  {_BUMP}\nEND"
        for name, fires in _sqlite_triggers()
    ]


def _postgresql_create() -> list[str]:
    statements = [
        "CREATE OR REPLACE FUNCTION hermes_directory_changed() RETURNS trigger "
        f"LANGUAGE plpgsql AS $$\nBEGIN\n  {_BUMP}\n  RETURN NULL;\nEND $$"
    ]
    for table, columns in WATCHED.items():
        if columns is None:
            fires = f"INSERT OR UPDATE OR DELETE ON {table} FOR EACH ROW"  # none when no row
        else:
            fires = (
                f"UPDATE OF {', '.join(columns)} ON {table} FOR EACH ROW "
                f"WHEN ({_changed(columns, 'IS DISTINCT FROM')})"
            )
        statements.append(
            f"CREATE TRIGGER hermes_{table}_directory AFTER {fires} "
            "EXECUTE FUNCTION hermes_directory_changed()"
        )
    return statements
