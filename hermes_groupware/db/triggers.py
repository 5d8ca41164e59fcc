"""Trigger DDL for the change journal and task history, per dialect.

The journal must see writes that bypass our code (the desktop application writes plain SQL),
so it is kept by triggers. Each journaled write first bumps the single ``journal_counter`` row;
on PostgreSQL that row lock is held until commit, so sequence numbers are handed out in commit
order and a reader that has seen ``N`` can never later find a committed ``N - 1`` (the
"never skip a change" rule of the foundation issue, §4).

Who and from where comes from the unit of work: on PostgreSQL transaction-local settings
(``hermes.source``, ``hermes.actor``, ``hermes.now``), on SQLite the ``change_context`` row.
Absent both, the source is ``database``.

Migrations call :func:`create_statements`. Changing the DDL here therefore needs a new migration
that runs :func:`drop_statements` and :func:`create_statements`, so that existing databases get
the new triggers too. On SQLite, a migration that makes Alembic rebuild a journaled table
(batch "move and copy") drops its triggers: such a migration must re-create them the same way.
A migration written before a table was journaled passes the tables of its time (``tables=``),
so that replaying it on an empty database never names a table that does not exist yet.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

#: Task columns whose changes are written to ``task_history`` (old -> new).
TASK_HISTORY_FIELDS = (
    "subject",
    "status",
    "priority",
    "planned_start",
    "due",
    "completed_at",
    "responsible_id",
    "register_id",
    "parent_id",
    "customer_id",
    "contact_id",
    "visibility",
    "opportunity_value",
    "opportunity_probability",
    "opportunity_stage",
    "opportunity_expected_close",
)
_TIMESTAMP_FIELDS = {"planned_start", "due", "completed_at"}
_JOURNAL_COLUMNS = (
    "seq, entity, entity_id, task_id, op, register_id, old_register_id, "
    "responsible_id, old_responsible_id, source, actor_id, changed_at"
)
_HISTORY_COLUMNS = "seq, task_id, field, old_value, new_value, source, actor_id, changed_at"


@dataclass(frozen=True)
class _Dialect:
    """The few SQL fragments that differ between SQLite and PostgreSQL trigger bodies."""

    seq: str
    source: str
    actor: str
    now: str

    def as_text(self, column: str, field: str) -> str:
        """A column value as history text; timestamps as ISO 8601 UTC."""
        if field in _TIMESTAMP_FIELDS:
            if self is SQLITE:
                return f"strftime('%Y-%m-%dT%H:%M:%SZ', {column})"
            return f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
        return f"CAST({column} AS TEXT)"


_CTX = "(SELECT {} FROM change_context WHERE id = 1)"
SQLITE = _Dialect(
    seq="(SELECT last_seq FROM journal_counter WHERE id = 1)",
    source=f"COALESCE({_CTX.format('source')}, 'database')",
    actor=_CTX.format("actor_id"),
    now=f"COALESCE({_CTX.format('changed_at')}, strftime('%Y-%m-%d %H:%M:%S', 'now'))",
)
POSTGRESQL = _Dialect(seq="v_seq", source="v_source", actor="v_actor", now="v_now")


def _journal(d: _Dialect, entity: str, row: str, op: str, task_row: str) -> str:
    """INSERT of one journal entry; ``row``/``task_row`` are NEW/OLD (task_row may be a query)."""
    old_reg = "OLD.register_id" if entity == "task" and op == "update" else "NULL"
    old_resp = "OLD.responsible_id" if entity == "task" and op == "update" else "NULL"
    if entity == "task":
        reg, resp, task_id = f"{row}.register_id", f"{row}.responsible_id", f"{row}.id"
    else:
        reg = f"(SELECT register_id FROM tasks WHERE id = {task_row}.task_id)"
        resp = f"(SELECT responsible_id FROM tasks WHERE id = {task_row}.task_id)"
        task_id = f"{row}.task_id"
    return (
        f"INSERT INTO change_journal ({_JOURNAL_COLUMNS}) VALUES ({d.seq}, '{entity}', "
        f"{row}.id, {task_id}, '{op}', {reg}, {old_reg}, {resp}, {old_resp}, "
        f"{d.source}, {d.actor}, {d.now});"
    )


def _history(d: _Dialect, task_id: str, field: str, old: str, new: str, *, when: str = "") -> str:
    where = f" WHERE {when}" if when else ""
    return (
        f"INSERT INTO task_history ({_HISTORY_COLUMNS}) SELECT {d.seq}, {task_id}, {field}, "
        f"{old}, {new}, {d.source}, {d.actor}, {d.now}{where};"
    )


def _task_body(d: _Dialect, op: str) -> list[str]:
    if op == "insert":
        return [
            _journal(d, "task", "NEW", op, "NEW"),
            _history(d, "NEW.id", "'created'", "NULL", "NEW.number"),
        ]
    if op == "delete":
        return [
            _journal(d, "task", "OLD", op, "OLD"),
            _history(d, "OLD.id", "'deleted'", "OLD.number", "NULL"),
        ]
    distinct = "IS NOT" if d is SQLITE else "IS DISTINCT FROM"
    body = [_journal(d, "task", "NEW", op, "NEW")]
    body += [
        _history(
            d,
            "NEW.id",
            f"'{field}'",
            d.as_text(f"OLD.{field}", field),
            d.as_text(f"NEW.{field}", field),
            when=f"OLD.{field} {distinct} NEW.{field}",
        )
        for field in TASK_HISTORY_FIELDS
    ]
    return body


_ITEM_SUFFIX = {"insert": "_added", "update": "_changed", "delete": "_removed"}


def _item_body(d: _Dialect, op: str) -> list[str]:
    row = "OLD" if op == "delete" else "NEW"
    field = f"{row}.kind || '{_ITEM_SUFFIX[op]}'"
    old = "CAST(OLD.id AS TEXT)" if op != "insert" else "NULL"
    new = "CAST(NEW.id AS TEXT)" if op != "delete" else "NULL"
    return [_journal(d, "task_item", row, op, row), _history(d, f"{row}.task_id", field, old, new)]


def _custom_value_text(d: _Dialect, row: str) -> str:
    if d is SQLITE:
        boolean = f"CASE {row}.value_bool WHEN 1 THEN 'true' WHEN 0 THEN 'false' END"
    else:
        boolean = f"CAST({row}.value_bool AS TEXT)"
    return (
        f"COALESCE({row}.value_text, CAST({row}.value_number AS TEXT), "
        f"CAST({row}.value_date AS TEXT), {boolean})"
    )


def _custom_value_body(d: _Dialect, op: str) -> list[str]:
    row = "OLD" if op == "delete" else "NEW"
    field = f"'custom_field.' || CAST({row}.field_id AS TEXT)"
    old = _custom_value_text(d, "OLD") if op != "insert" else "NULL"
    new = _custom_value_text(d, "NEW") if op != "delete" else "NULL"
    return [
        _journal(d, "custom_value", row, op, row),
        _history(d, f"{row}.task_id", field, old, new),
    ]


def _reminder_body(d: _Dialect, op: str) -> list[str]:
    """Reminders are journaled (calendars show them as alarms) but not task history."""
    row = "OLD" if op == "delete" else "NEW"
    return [_journal(d, "reminder", row, op, row)]


_BODIES = {
    "tasks": _task_body,
    "task_items": _item_body,
    "custom_field_values": _custom_value_body,
    "task_reminders": _reminder_body,
}
_OPS = ("insert", "update", "delete")

#: Every journaled table (the default of the functions below).
JOURNALED_TABLES: tuple[str, ...] = tuple(_BODIES)
#: The tables journaled by revisions 0001-0005 (``task_reminders`` arrived with 0006).
JOURNALED_BEFORE_0006: tuple[str, ...] = ("tasks", "task_items", "custom_field_values")

_SQLITE_VERSION_BUMP = (
    f"UPDATE tasks SET version = version + 1, updated_at = {SQLITE.now} "
    "WHERE id = NEW.id AND NEW.version = OLD.version;"
)


def sqlite_create(tables: Sequence[str] = JOURNALED_TABLES) -> list[str]:
    """CREATE TRIGGER statements for SQLite (one trigger per table and operation)."""
    statements = []
    for table in tables:
        body = _BODIES[table]
        for op in _OPS:
            steps = ["UPDATE journal_counter SET last_seq = last_seq + 1 WHERE id = 1;"]
            steps += body(SQLITE, op)
            if table == "tasks" and op == "update":
                # Plain SQL that does not bump the version still invalidates ETags.  A trigger
                # does not fire itself again (recursive_triggers is off), so this is safe.
                steps.append(_SQLITE_VERSION_BUMP)
            statements.append(
                f"CREATE TRIGGER hermes_{table}_{op} AFTER {op.upper()} ON {table} "
                f"FOR EACH ROW BEGIN\n  " + "\n  ".join(steps) + "\nEND"
            )
    return statements


def sqlite_drop(tables: Sequence[str] = JOURNALED_TABLES) -> list[str]:
    """DROP TRIGGER statements for SQLite."""
    return [f"DROP TRIGGER IF EXISTS hermes_{t}_{op}" for t in tables for op in _OPS]


_PG_DECLARE = """DECLARE
  v_seq bigint;
  v_source text := COALESCE(NULLIF(current_setting('hermes.source', true), ''), 'database');
  v_actor integer := NULLIF(current_setting('hermes.actor', true), '')::integer;
  v_now timestamptz := COALESCE(NULLIF(current_setting('hermes.now', true), '')::timestamptz,
                                now());
BEGIN
  UPDATE journal_counter SET last_seq = last_seq + 1 WHERE id = 1 RETURNING last_seq INTO v_seq;
"""

_PG_VERSION_FUNCTION = """CREATE OR REPLACE FUNCTION hermes_tasks_bump_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  -- Plain SQL that does not bump the version still invalidates ETags.
  IF NEW.version = OLD.version THEN
    NEW.version := OLD.version + 1;
    NEW.updated_at := COALESCE(NULLIF(current_setting('hermes.now', true), '')::timestamptz,
                               now());
  END IF;
  RETURN NEW;
END $$"""


def postgresql_create(tables: Sequence[str] = JOURNALED_TABLES) -> list[str]:
    """Functions and triggers for PostgreSQL (one function per journaled table); the version
    bump of ``tasks`` comes with the ``tasks`` triggers."""
    statements = [_PG_VERSION_FUNCTION] if "tasks" in tables else []
    for table in tables:
        body = _BODIES[table]
        branches = []
        for op in _OPS:
            row = "OLD" if op == "delete" else "NEW"
            steps = "\n    ".join(body(POSTGRESQL, op))
            branches.append(
                f"IF TG_OP = '{op.upper()}' THEN\n    {steps}\n    RETURN {row};\n  END IF;"
            )
        statements.append(
            f"CREATE OR REPLACE FUNCTION hermes_{table}_journal() RETURNS trigger "
            f"LANGUAGE plpgsql AS $$\n{_PG_DECLARE}  "
            + "\n  ".join(branches)
            + "\n  RETURN NULL;\nEND $$"
        )
        statements.append(
            f"CREATE TRIGGER hermes_{table}_journal AFTER INSERT OR UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION hermes_{table}_journal()"
        )
    if "tasks" in tables:
        statements.append(
            "CREATE TRIGGER hermes_tasks_bump_version BEFORE UPDATE ON tasks "
            "FOR EACH ROW EXECUTE FUNCTION hermes_tasks_bump_version()"
        )
    return statements


def postgresql_drop(tables: Sequence[str] = JOURNALED_TABLES) -> list[str]:
    """DROP statements for PostgreSQL."""
    bump = "tasks" in tables
    drops = ["DROP TRIGGER IF EXISTS hermes_tasks_bump_version ON tasks"] if bump else []
    drops += [f"DROP TRIGGER IF EXISTS hermes_{t}_journal ON {t}" for t in tables]
    drops += [f"DROP FUNCTION IF EXISTS hermes_{t}_journal()" for t in tables]
    if bump:
        drops.append("DROP FUNCTION IF EXISTS hermes_tasks_bump_version()")
    return drops


def create_statements(dialect: str, tables: Sequence[str] = JOURNALED_TABLES) -> list[str]:
    """The trigger DDL for a dialect name (``sqlite`` or ``postgresql``)."""
    return sqlite_create(tables) if dialect == "sqlite" else postgresql_create(tables)


def drop_statements(dialect: str, tables: Sequence[str] = JOURNALED_TABLES) -> list[str]:
    """The reverse of :func:`create_statements`."""
    return sqlite_drop(tables) if dialect == "sqlite" else postgresql_drop(tables)
