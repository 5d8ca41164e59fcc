"""The journal and history see every write, including plain SQL that bypasses our code."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select, text

from hermes_groupware.db.session import UnitOfWork
from hermes_groupware.models import ChangeJournal, Task, TaskHistory
from hermes_groupware.models.enums import FieldType
from hermes_groupware.services import custom_fields, items
from tests.factories import Factory


def _journal(uow: UnitOfWork, task_id: int) -> list[ChangeJournal]:
    return list(
        uow.session.scalars(
            select(ChangeJournal)
            .where(ChangeJournal.task_id == task_id)
            .order_by(ChangeJournal.seq)
        )
    )


def _history(uow: UnitOfWork, task_id: int) -> list[tuple[str, str | None, str | None, str]]:
    rows = uow.session.execute(
        select(TaskHistory.field, TaskHistory.old_value, TaskHistory.new_value, TaskHistory.source)
        .where(TaskHistory.task_id == task_id)
        .order_by(TaskHistory.id)
    )
    return [tuple(r) for r in rows]  # type: ignore[misc]


def _as_plain_sql_writer(uow: UnitOfWork) -> None:
    """Forget the unit of work's change context: the desktop application's has none."""
    conn = uow.session.connection()
    if conn.dialect.name == "sqlite":
        conn.execute(text("DELETE FROM change_context"))
    else:
        conn.execute(
            text(
                "SELECT set_config('hermes.source', '', true), "
                "set_config('hermes.actor', '', true), set_config('hermes.now', '', true)"
            )
        )


def test_service_writes_are_journaled_with_source_and_actor(uow: UnitOfWork, make: Factory) -> None:
    boss, reg = make.employee(is_admin=True), make.register()
    task = make.task(reg, boss, "Oferta", actor=make.actor(boss))
    entries = _journal(uow, task.id)
    assert [(e.entity, e.op, e.source, e.actor_id) for e in entries] == [
        ("task", "insert", "cli", boss.id)
    ]
    assert entries[0].register_id == reg.id and entries[0].responsible_id == boss.id
    assert _history(uow, task.id) == [("created", None, task.number, "cli")]


def test_plain_sql_update_gets_journal_history_and_version(uow: UnitOfWork, make: Factory) -> None:
    boss, other, reg = make.employee(), make.employee(), make.register()
    task = make.task(reg, boss, "Oferta")
    before = _journal(uow, task.id)[-1].seq
    _as_plain_sql_writer(uow)
    uow.session.execute(
        text(
            "UPDATE tasks SET status = 'done', responsible_id = :r, "
            "due = '2026-12-01 09:30:00' WHERE id = :id"
        ),
        {"r": other.id, "id": task.id},
    )
    uow.session.expire_all()
    entries = _journal(uow, task.id)
    assert entries[-1].seq == before + 1
    assert (entries[-1].op, entries[-1].source, entries[-1].actor_id) == (
        "update",
        "database",
        None,
    )
    assert (entries[-1].old_responsible_id, entries[-1].responsible_id) == (boss.id, other.id)
    assert set(_history(uow, task.id)[1:]) == {
        ("status", "new", "done", "database"),
        ("responsible_id", str(boss.id), str(other.id), "database"),
        ("due", None, "2026-12-01T09:30:00Z", "database"),
    }
    refreshed = uow.session.get_one(Task, task.id)
    assert refreshed.version == 2
    assert refreshed.due == dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)


def test_plain_sql_insert_and_delete_are_journaled(uow: UnitOfWork, make: Factory) -> None:
    boss, reg = make.employee(), make.register()
    _as_plain_sql_writer(uow)
    uow.session.execute(
        text(
            "INSERT INTO tasks (number, register_id, subject, responsible_id) "
            "VALUES ('X/2026/0001', :reg, 'Z biurka', :emp)"
        ),
        {"reg": reg.id, "emp": boss.id},
    )
    task_id = uow.session.scalar(select(Task.id).where(Task.number == "X/2026/0001"))
    assert task_id is not None
    uow.session.execute(text("DELETE FROM tasks WHERE id = :id"), {"id": task_id})
    assert [(e.op, e.source) for e in _journal(uow, task_id)] == [
        ("insert", "database"),
        ("delete", "database"),
    ]
    assert [h[0] for h in _history(uow, task_id)] == ["created", "deleted"]


def test_items_and_custom_values_are_journaled(uow: UnitOfWork, make: Factory) -> None:
    boss, reg = make.employee(), make.register("REKX")
    task = make.task(reg, boss)
    custom_fields.define_field(uow, "REKX", key="partia", label="Partia", field_type=FieldType.TEXT)
    note = items.add_note(uow, task.id, "Rozmowa z klientem")
    custom_fields.set_values(uow, task.id, {"partia": "P-1"})
    custom_fields.set_values(uow, task.id, {"partia": "P-2"})
    uow.session.execute(delete(type(note)).where(type(note).id == note.id))
    entries = [(e.entity, e.op) for e in _journal(uow, task.id)]
    assert entries == [
        ("task", "insert"),
        ("task_item", "insert"),
        ("custom_value", "insert"),
        ("custom_value", "update"),
        ("task_item", "delete"),
    ]
    history = _history(uow, task.id)
    assert history[1][:3] == ("note_added", None, str(note.id))
    assert history[3][1:3] == ("P-1", "P-2")
    assert history[4][0] == "note_removed"


def test_no_op_history_for_unchanged_fields(uow: UnitOfWork, make: Factory) -> None:
    boss, reg = make.employee(), make.register()
    task = make.task(reg, boss)
    _as_plain_sql_writer(uow)
    uow.session.execute(text("UPDATE tasks SET subject = subject WHERE id = :id"), {"id": task.id})
    assert [h[0] for h in _history(uow, task.id)] == ["created"]
