"""Task service: numbering, validation (nothing written on bad input), status rules, versions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select, update

from hermes_groupware.db.session import UnitOfWork
from hermes_groupware.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from hermes_groupware.models import ChangeJournal, Task
from hermes_groupware.models.enums import AccessLevel, TaskStatus
from hermes_groupware.services.tasks import (
    Opportunity,
    TaskChanges,
    add_subtask,
    create_task,
    set_status,
    update_task,
)
from tests.factories import Factory

WARSAW_NEW_YEAR = dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.UTC)  # 00:30 on 1 Jan in Warsaw


def _count(uow: UnitOfWork) -> tuple[int, int]:
    tasks = uow.session.scalar(select(func.count()).select_from(Task))
    journal = uow.session.scalar(select(func.count()).select_from(ChangeJournal))
    return tasks or 0, journal or 0


def test_numbers_run_per_register_and_year(uow: UnitOfWork, make: Factory) -> None:
    boss = make.employee()
    rek, han = make.register("REK"), make.register("HAN")
    numbers = [
        make.task(rek, boss).number,
        make.task(rek, boss).number,
        make.task(han, boss).number,
    ]
    year = uow.now().year
    assert numbers == [f"REK/{year}/0001", f"REK/{year}/0002", f"HAN/{year}/0001"]


def test_number_year_is_the_polish_year(uow: UnitOfWork, make: Factory) -> None:
    boss, rek = make.employee(), make.register("REK")
    with freeze_time(WARSAW_NEW_YEAR):
        assert make.task(rek, boss).number == "REK/2027/0001"


def test_numbers_written_by_the_desktop_app_are_skipped(uow: UnitOfWork, make: Factory) -> None:
    boss, rek = make.employee(), make.register("REK")
    first = make.task(rek, boss)
    year = uow.now().year
    taken = Task(
        number=f"REK/{year}/0002", register_id=rek.id, subject="z biurka", responsible_id=boss.id
    )
    uow.session.add(taken)
    uow.session.flush()
    assert first.number.endswith("0001")
    assert make.task(rek, boss).number == f"REK/{year}/0003"


def test_responsible_defaults_to_register_assignee(uow: UnitOfWork, make: Factory) -> None:
    boss = make.employee("mzielinska")
    rek = make.register("REK", default_assignee="mzielinska")
    task = create_task(uow, register_id=rek.id, subject="Reklamacja")
    assert task.responsible_id == boss.id


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        (
            TaskChanges(
                planned_start=dt.datetime(2026, 5, 2, tzinfo=dt.UTC),
                due=dt.datetime(2026, 5, 1, tzinfo=dt.UTC),
            ),
            "due",
        ),
        (TaskChanges(subject="   "), "subject"),
        (TaskChanges(customer_id=999_999), "customer"),
        (TaskChanges(recurrence="FREQ=SOMETIMES"), "recurrence"),
        (TaskChanges(opportunity=Opportunity(probability=150)), "probability"),
        (TaskChanges(due=dt.datetime(2026, 5, 1)), "due"),  # noqa: DTZ001 - naive on purpose
        (TaskChanges(due=dt.datetime(9999, 12, 31, 23, 30, tzinfo=dt.UTC)), "due"),
        (TaskChanges(planned_start=dt.datetime(1, 1, 1, tzinfo=dt.UTC)), "planned_start"),
    ],
)
def test_bad_values_are_refused_and_nothing_is_written(
    uow: UnitOfWork, make: Factory, changes: TaskChanges, field: str
) -> None:
    boss, rek = make.employee(), make.register()
    before = _count(uow)
    with pytest.raises(InvalidInput) as error:
        create_task(uow, register_id=rek.id, subject="x", responsible_id=boss.id, changes=changes)
    assert error.value.field == field
    assert _count(uow) == before


def test_unknown_register_and_employee(uow: UnitOfWork, make: Factory) -> None:
    boss, rek = make.employee(), make.register()
    with pytest.raises(InvalidInput, match="register"):
        create_task(uow, register_id=424242, subject="x", responsible_id=boss.id)
    with pytest.raises(InvalidInput, match="responsible"):
        create_task(uow, register_id=rek.id, subject="x", responsible_id=424242)


def test_parent_cycles_are_refused(uow: UnitOfWork, make: Factory) -> None:
    boss, rek = make.employee(), make.register()
    root = make.task(rek, boss, "root")
    child = add_subtask(uow, root.id, subject="child", responsible_id=boss.id)
    grandchild = add_subtask(uow, child.id, subject="grandchild", responsible_id=boss.id)
    for parent in (grandchild.id, root.id):
        with pytest.raises(InvalidInput, match="ancestor"):
            update_task(uow, root.id, TaskChanges(parent_id=parent))
    assert uow.session.get_one(Task, root.id).parent_id is None


def test_a_date_out_of_range_from_the_desktop_stays_while_other_fields_change(
    uow: UnitOfWork, make: Factory
) -> None:
    """9999-12-31 is the desktop application's "never": only a new value is checked."""
    boss, rek = make.employee(), make.register()
    task = make.task(rek, boss, "never due")
    never = dt.datetime(9999, 12, 31, tzinfo=dt.UTC)
    uow.session.execute(update(Task).where(Task.id == task.id).values(due=never))
    uow.session.expire(task)
    update_task(uow, task.id, TaskChanges(status=TaskStatus.DONE))
    stored = uow.session.get_one(Task, task.id)
    assert (stored.status, stored.due) == (TaskStatus.DONE, never)
    with pytest.raises(InvalidInput, match="between 1900 and 9998"):
        update_task(uow, task.id, TaskChanges(due=never + dt.timedelta(hours=1)))


def test_completion_sets_and_reopening_clears_completed_at(uow: UnitOfWork, make: Factory) -> None:
    boss, rek = make.employee(), make.register()
    task = make.task(rek, boss)
    with freeze_time("2026-03-10 12:00:00"):
        set_status(uow, task.id, TaskStatus.DONE)
    assert task.completed_at == dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC)
    set_status(uow, task.id, TaskStatus.IN_PROGRESS)
    assert task.completed_at is None
    set_status(uow, task.id, TaskStatus.CANCELLED)
    assert task.completed_at is None and task.is_closed


def test_overdue_is_due_passed_and_open(uow: UnitOfWork, make: Factory) -> None:
    boss, rek = make.employee(), make.register()
    due = dt.datetime(2026, 3, 10, tzinfo=dt.UTC)
    timed = make.task(rek, boss, due=due + dt.timedelta(hours=9))
    all_day = make.task(rek, boss, due=due, all_day=True)
    evening = dt.datetime(2026, 3, 10, 20, tzinfo=dt.UTC)
    assert timed.is_overdue(evening) and not all_day.is_overdue(evening)
    assert all_day.is_overdue(evening + dt.timedelta(days=1))
    set_status(uow, timed.id, TaskStatus.DONE)
    assert not timed.is_overdue(evening)


def test_expected_version_guards_against_lost_updates(uow: UnitOfWork, make: Factory) -> None:
    boss, rek = make.employee(), make.register()
    task = make.task(rek, boss)
    update_task(uow, task.id, TaskChanges(subject="pierwsza"), expected_version=1)
    assert task.version == 2
    with pytest.raises(Conflict) as error:
        update_task(uow, task.id, TaskChanges(subject="druga"), expected_version=1)
    assert (error.value.expected, error.value.actual) == (1, 2)
    assert task.subject == "pierwsza"


def test_one_update_is_one_journal_entry(uow: UnitOfWork, make: Factory) -> None:
    boss, other, rek = make.employee(), make.employee(), make.register()
    task = make.task(rek, boss)
    _, before = _count(uow)
    update_task(
        uow,
        task.id,
        TaskChanges(
            subject="nowy",
            responsible_id=other.id,
            opportunity=Opportunity(value=Decimal("1500.00")),
        ),
    )
    assert _count(uow)[1] == before + 1
    assert task.version == 2


def test_editing_needs_edit_rights(uow: UnitOfWork, make: Factory) -> None:
    owner, reader, rek = make.employee(), make.employee(), make.register()
    task = make.task(rek, owner)
    with pytest.raises(PermissionDenied):
        update_task(make.as_(reader), task.id, TaskChanges(subject="nie wolno"))
    with pytest.raises(PermissionDenied):
        create_task(make.as_(reader), register_id=rek.id, subject="x")
    hidden = make.register(default_access=AccessLevel.NONE)
    secret = make.task(hidden, owner)
    with pytest.raises(NotFound):
        update_task(make.as_(reader), secret.id, TaskChanges(subject="?"))


def test_moving_to_a_register_needs_edit_rights_there(uow: UnitOfWork, make: Factory) -> None:
    rep = make.employee()
    mine = make.register(default_access=AccessLevel.EDIT)
    theirs = make.register(default_access=AccessLevel.READ)
    task = make.task(mine, rep, actor=make.actor(rep))
    with pytest.raises(PermissionDenied):
        update_task(make.as_(rep), task.id, TaskChanges(register_id=theirs.id))
