"""The calendar projection after directory changes: re-rendered in steps, counted by triggers."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import event, select, text

from hermes_groupware.db.session import UnitOfWork
from hermes_groupware.models import CalendarObject, Task
from hermes_groupware.models.enums import DelegationMode, FieldType
from hermes_groupware.services import custom_fields, delegation, reminders
from hermes_groupware.services.directory import add_group, add_member
from hermes_groupware.services.registers import RegisterChanges, RegisterView, update_register
from sync import projection
from tests.factories import Factory


def _names(uow: UnitOfWork, register: RegisterView) -> list[str]:
    """For each live object of the register's list, which of the test's names it shows."""
    bodies = uow.session.scalars(
        select(CalendarObject.body).where(
            CalendarObject.collection == f"register:{register.code}", ~CalendarObject.deleted
        )
    )
    return sorted(
        next(n for n in ("Stara", "Nowa", "Inna") if f"CATEGORIES:{n}" in (b or "")) for b in bodies
    )


def _seven_tasks(uow: UnitOfWork, make: Factory) -> RegisterView:
    responsible, register = make.employee(), make.register(name="Stara")
    for n in range(7):
        make.task(register, responsible, f"zadanie {n}")
    assert projection.catch_up(uow.session, uow.now())
    return register


def test_a_register_rename_re_renders_every_task_a_chunk_at_a_time(
    uow: UnitOfWork, make: Factory
) -> None:
    register = _seven_tasks(uow, make)
    update_register(uow, register.code, RegisterChanges(name="Nowa"))
    assert projection.is_behind(uow.session)  # the trigger counted the rename
    partial: list[list[str]] = []
    while not projection.catch_up(uow.session, uow.now(), max_entries=3):
        partial.append(_names(uow, register))
    assert len(partial) >= 2
    assert partial[0].count("Nowa") == 3
    assert "Stara" in partial[0]
    assert _names(uow, register) == ["Nowa"] * 7
    assert not projection.is_behind(uow.session)


def test_a_writer_leaves_the_re_render_to_readers(uow: UnitOfWork, make: Factory) -> None:
    register = _seven_tasks(uow, make)
    update_register(uow, register.code, RegisterChanges(name="Nowa"))
    assert projection.catch_up(uow.session, uow.now(), directory=False)
    assert _names(uow, register) == ["Stara"] * 7
    assert projection.is_behind(uow.session)
    assert projection.catch_up(uow.session, uow.now())
    assert _names(uow, register) == ["Nowa"] * 7


def test_a_change_during_the_pass_starts_it_over(uow: UnitOfWork, make: Factory) -> None:
    register = _seven_tasks(uow, make)
    update_register(uow, register.code, RegisterChanges(name="Nowa"))
    assert not projection.catch_up(uow.session, uow.now(), max_entries=3)
    update_register(uow, register.code, RegisterChanges(name="Inna"))
    while not projection.catch_up(uow.session, uow.now(), max_entries=3):
        pass
    assert _names(uow, register) == ["Inna"] * 7


def test_plain_sql_directory_changes_count_and_no_op_updates_do_not(
    uow: UnitOfWork, make: Factory
) -> None:
    register = _seven_tasks(uow, make)
    employee = make.employee()
    session = uow.session
    same = "UPDATE registers SET name = name, colour = colour WHERE id = :id"
    session.execute(text(same), {"id": register.id})
    assert not projection.is_behind(session)
    session.execute(
        text("UPDATE registers SET colour = '#000000' WHERE id = :id"), {"id": register.id}
    )
    assert projection.is_behind(session)
    assert projection.catch_up(session, uow.now())
    add_group(uow, "zespol", "Zespół")
    assert not projection.is_behind(session)  # an empty group changes no calendar
    add_member(uow, "zespol", employee.login)
    assert projection.is_behind(session)
    assert projection.catch_up(session, uow.now())
    session.execute(text("DELETE FROM group_members"))
    assert projection.is_behind(session)
    assert projection.catch_up(session, uow.now())
    session.execute(
        text("UPDATE employees SET time_zone = 'Europe/London' WHERE id = :id"), {"id": employee.id}
    )
    assert projection.is_behind(session)


def test_the_state_row_is_locked_once_per_transaction(uow: UnitOfWork, make: Factory) -> None:
    """A write catches up before and after its change: the second time, the row it locked is
    still locked and is not read again; pending changes are flushed all the same."""
    statements: list[str] = []
    connection = uow.session.connection()

    def seen(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(" ".join(statement.split()))

    task = make.task(make.register(), make.employee())
    first = projection.state(uow.session, lock=True)
    event.listen(connection, "before_cursor_execute", seen)
    try:
        uow.session.get_one(Task, task.id).subject = "zmieniony"
        assert projection.state(uow.session, lock=True) is first
        # the pending change went out, and the row was not read again
        assert [s.split(" SET")[0] for s in statements] == ["UPDATE tasks"]
        assert projection.changes_since(uow.session, first.applied_seq)[-1].task_id == task.id
        uow.session.commit()  # a new transaction locks the row again
        statements.clear()
        projection.state(uow.session, lock=True)
        assert sum("FROM calendar_state" in s for s in statements) == 1
    finally:
        event.remove(connection, "before_cursor_execute", seen)


def test_children_are_looked_up_for_changed_tasks_not_for_new_ones(
    uow: UnitOfWork, make: Factory
) -> None:
    """A task inserted since the last catch-up has no children of its own yet (a child would
    have a journal entry of its own), so its catch-up does not look for any."""
    register, owner = make.register(), make.employee()
    assert projection.catch_up(uow.session, uow.now())
    statements: list[str] = []
    connection = uow.session.connection()

    def seen(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(" ".join(statement.split()))

    event.listen(connection, "before_cursor_execute", seen)
    try:
        parent = make.task(register, owner, "rodzic")
        projection.catch_up(uow.session, uow.now())
        assert not [s for s in statements if "tasks.parent_id IN" in s]
        child = make.task(register, owner, "dziecko", parent=parent)
        uow.session.get_one(Task, parent.id).subject = "rodzic zmieniony"
        statements.clear()
        projection.catch_up(uow.session, uow.now())
        assert [s for s in statements if "tasks.parent_id IN" in s]
    finally:
        event.remove(connection, "before_cursor_execute", seen)
    related = uow.session.scalars(
        select(CalendarObject.body).where(CalendarObject.task_id == child.id)
    )
    assert all("RELATED-TO" in (body or "") for body in related)


def test_a_new_task_s_delegations_reminders_and_fields_are_read_only_when_journaled(
    uow: UnitOfWork, make: Factory
) -> None:
    """Rows that belong to a task need the task first and have journal entries of their own:
    a task inserted since the last catch-up with no such entry has none, and they are not
    read (a client's new item). With entries, they are read and rendered."""
    register, owner, delegate = make.register(), make.employee(), make.employee()
    custom_fields.define_field(
        uow, register.code, key="rabat", label="Rabat", field_type=FieldType.NUMBER
    )
    assert projection.catch_up(uow.session, uow.now())
    statements: list[str] = []
    connection = uow.session.connection()

    def seen(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(" ".join(statement.split()))

    children = ("FROM task_items ", "FROM task_reminders ", "FROM custom_field_values ")
    due = dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC)
    event.listen(connection, "before_cursor_execute", seen)
    try:
        plain = make.task(register, owner, "samo zadanie", due=due)
        projection.catch_up(uow.session, uow.now())
        assert not [s for s in statements if any(c in s for c in children)]
        dressed = make.task(register, owner, "z dodatkami", due=due)
        delegation.delegate(uow, dressed.id, delegate.login, DelegationMode.WITH_HISTORY)
        spec = reminders.ReminderSpec(at=due - dt.timedelta(hours=1), employee_id=owner.id)
        reminders.add_reminder(uow, dressed.id, spec)
        custom_fields.set_values(uow, dressed.id, {"rabat": "15"})
        statements.clear()
        projection.catch_up(uow.session, uow.now())
        read = {c for c in children for s in statements if c in s}
        assert read == set(children)
    finally:
        event.remove(connection, "before_cursor_execute", seen)
    bodies = {
        (obj.collection, obj.task_id): obj.body or ""
        for obj in uow.session.scalars(
            select(CalendarObject).where(CalendarObject.task_id.in_([plain.id, dressed.id]))
        )
    }
    assert (f"{delegate.login}/tasks", dressed.id) in bodies
    assert (f"{delegate.login}/tasks", plain.id) not in bodies
    assert "BEGIN:VALARM" in bodies[(f"{owner.login}/tasks", dressed.id)]
    assert "BEGIN:VALARM" not in bodies[(f"{owner.login}/tasks", plain.id)]
    assert "rabat" in bodies[(f"register:{register.code}", dressed.id)].lower()


def test_a_register_colour_that_is_not_one_leaves_the_tasks_rendered_without_it(
    uow: UnitOfWork, make: Factory
) -> None:
    """The desktop application writes registers directly; its colour may be any text."""
    register = _seven_tasks(uow, make)
    due = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
    make.task(register, make.employee(), "z terminem", due=due)  # also in the planned VEVENTs
    assert projection.catch_up(uow.session, uow.now())
    assert "COLOR:" in (_planned_body(uow) or "")
    uow.session.execute(
        text("UPDATE registers SET colour = 'zielony' WHERE id = :id"), {"id": register.id}
    )
    assert projection.catch_up(uow.session, uow.now())
    bodies = list(
        uow.session.scalars(
            select(CalendarObject.body).where(
                CalendarObject.task_id.is_not(None), ~CalendarObject.deleted
            )
        )
    )
    assert len(bodies) >= 9  # seven VTODOs, one more and its VEVENT
    assert all("CATEGORIES:Stara" in (b or "") for b in bodies)
    assert "COLOR:" not in (_planned_body(uow) or "")


def _planned_body(uow: UnitOfWork) -> str | None:
    return uow.session.scalar(
        select(CalendarObject.body).where(
            CalendarObject.collection.like("%/planned"), ~CalendarObject.deleted
        )
    )
