"""The day and week agenda of one employee: sections, order, rights, the reader, demo data."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from hermes_groupware import demo
from hermes_groupware.db.session import Actor, UnitOfWork
from hermes_groupware.errors import InvalidInput
from hermes_groupware.models import Task, TaskItem
from hermes_groupware.models.enums import (
    AccessLevel,
    DelegationMode,
    ItemKind,
    Locale,
    TaskStatus,
)
from hermes_groupware.services import access, delegation
from hermes_groupware.services.directory import actor_for
from hermes_groupware.services.lookups import employee_by_login
from reports import agenda
from tests.factories import Factory
from tests.reports.reading import (
    WARSAW,
    column,
    context,
    counted_queries,
    everything_readable,
    labels,
    run_report,
    utc,
    warsaw,
)

# Wednesday 10:00 in Warsaw; the week is Monday 2026-03-09 .. Sunday 2026-03-15
NOW = utc("2026-03-11", "09:00")


@dataclass
class Desk:
    """Jan's tasks, and three readers: Jan, a colleague without the secret register, an admin
    without tasks."""

    jan: Actor
    anna: Actor
    boss: Actor
    numbers: dict[str, str]

    def of(self, *keys: str) -> list[str]:
        return [self.numbers[key] for key in keys]


@pytest.fixture
def desk(make: Factory, uow: UnitOfWork) -> Iterator[Desk]:
    with freeze_time(NOW):
        boss = make.employee("szef", first_name="Ewa", last_name="Szefowa", is_admin=True)
        jan = make.employee("jan", first_name="Jan", last_name="Kowalski")
        anna = make.employee("anna", first_name="Anna", last_name="Nowak")
        piotr = make.employee("piotr", first_name="Piotr", last_name="Wiśniewski")
        han = make.register("HAN", default_access=AccessLevel.READ)
        sec = make.register("SEC", default_access=AccessLevel.NONE)
        numbers: dict[str, str] = {}

        def task(key: str, register: object, who: object, **changes: object) -> Task:
            created = make.task(register, who, f"Zadanie {key}", **changes)  # type: ignore[arg-type]
            numbers[key] = created.number
            return created

        task("late-all-day", han, jan, due=utc("2026-03-10"), all_day=True)
        task("late-today", han, jan, due=warsaw("2026-03-11", "08:00"))
        task("due-15", han, jan, due=warsaw("2026-03-11", "15:00"))
        task(
            "starts-today",
            han,
            jan,
            planned_start=warsaw("2026-03-11", "09:30"),
            due=warsaw("2026-03-13", "12:00"),
        )
        task("today-all-day", han, jan, due=utc("2026-03-11"), all_day=True)
        task("saturday", han, jan, due=utc("2026-03-14"), all_day=True)
        task(
            "starts-thursday",
            han,
            jan,
            planned_start=warsaw("2026-03-12", "10:00"),
            due=warsaw("2026-03-20", "10:00"),
        )
        task("no-date", han, jan)
        task("done", han, jan, due=warsaw("2026-03-11", "14:00"), status=TaskStatus.DONE)
        task("next-week", han, jan, due=warsaw("2026-03-16", "09:00"))
        task("secret", sec, jan, due=warsaw("2026-03-11", "11:00"))
        delegated = task("delegated", han, anna, due=warsaw("2026-03-11", "12:00"))
        delegation.delegate(uow, delegated.id, "jan", DelegationMode.WITH_HISTORY)
        revoked = task("revoked", han, anna, due=warsaw("2026-03-11", "13:00"))
        item = delegation.delegate(uow, revoked.id, "jan", DelegationMode.WITH_HISTORY)
        delegation.revoke_delegation(uow, item.id)
        task("annas", han, anna, due=warsaw("2026-03-11", "13:00"))
        parent = task("parent", sec, piotr, due=warsaw("2026-03-10", "09:00"))
        sub = task("sub", sec, piotr, parent=parent, due=utc("2026-03-12"), all_day=True)
        delegation.delegate(uow, sub.id, "jan", DelegationMode.HIDE_PARENT)
        yield Desk(
            jan=make.actor(jan), anna=make.actor(anna), boss=make.actor(boss), numbers=numbers
        )


def test_my_day_in_polish(uow: UnitOfWork, desk: Desk) -> None:
    result = run_report(agenda, uow, desk.jan)
    assert result.title == "Plan dnia: Jan Kowalski"
    assert result.period == "Dzień 2026-03-11 (środa)"
    assert [(f.label, f.value) for f in result.figures] == [
        ("Otwarte zadania", 12),
        ("Zaległe", 2),
        ("Termin dziś", 4),
        ("Otwarte bez daty", 1),
    ]
    late, today = result.tables
    assert late.title == "Zaległe"
    assert labels(late) == [
        "Numer",
        "Temat",
        "Rejestr",
        "Kontrahent",
        "Termin",
        "Dni po terminie",
    ]
    assert column(late, "number") == desk.of("late-all-day", "late-today")
    assert column(late, "days_overdue") == [1, 0]
    assert all(row.overdue for row in late.rows)
    assert today.title == "Dziś"
    assert labels(today) == [
        "Data",
        "Dzień",
        "Godzina",
        "Co",
        "Numer",
        "Temat",
        "Rejestr",
        "Kontrahent",
    ]
    assert column(today, "number") == desk.of(
        "today-all-day", "starts-today", "secret", "delegated", "due-15"
    )
    assert column(today, "time") == ["cały dzień", "09:30", "11:00", "12:00", "15:00"]
    assert column(today, "what") == ["termin", "początek", "termin", "termin", "termin"]
    assert set(column(today, "date")) == {dt.date(2026, 3, 11)}
    assert not any(row.overdue for row in today.rows)


def test_my_week_in_english_has_a_day_column(uow: UnitOfWork, desk: Desk) -> None:
    result = run_report(agenda, uow, desk.jan, locale=Locale.EN, period="week")
    assert result.title == "Week plan: Jan Kowalski"
    assert result.period == "Week 2026-03-09 – 2026-03-15"
    assert [(f.label, f.value) for f in result.figures] == [
        ("Open tasks", 12),
        ("Overdue", 2),
        ("Due this week", 7),
        ("Open without a date", 1),
    ]
    late, week = result.tables
    assert (late.title, week.title) == ("Overdue", "This week")
    assert labels(week) == [
        "Date",
        "Day",
        "Time",
        "What",
        "Number",
        "Subject",
        "Register",
        "Customer",
    ]
    assert column(week, "number") == desk.of(
        *("today-all-day", "secret", "delegated", "due-15"),
        *("sub", "starts-thursday", "starts-today", "saturday"),
    )
    assert column(week, "weekday") == ["Wednesday"] * 4 + ["Thursday"] * 2 + [
        "Friday",
        "Saturday",
    ]
    assert column(week, "what") == ["due"] * 5 + ["start", "due", "due"]
    assert column(week, "time")[4:7] == ["all day", "10:00", "12:00"]


def test_a_colleague_sees_only_what_her_rights_allow(uow: UnitOfWork, desk: Desk) -> None:
    result = run_report(agenda, uow, desk.anna, period="week", employee="jan")
    assert result.title == "Plan tygodnia: Jan Kowalski"
    assert [f.value for f in result.figures] == [10, 2, 5, 1]
    readable = everything_readable(result)
    for hidden in ("secret", "sub", "parent"):
        assert desk.numbers[hidden] not in readable
    assert desk.numbers["delegated"] in readable


def test_the_delegate_never_sees_the_hidden_parent(uow: UnitOfWork, desk: Desk) -> None:
    result = run_report(agenda, uow, desk.jan, period="week")
    readable = everything_readable(result)
    assert desk.numbers["sub"] in readable
    assert desk.numbers["parent"] not in readable
    assert "Zadanie parent" not in readable


def test_a_reader_without_tasks_gets_an_empty_agenda(uow: UnitOfWork, desk: Desk) -> None:
    result = run_report(agenda, uow, desk.boss, period="week")
    assert result.title == "Plan tygodnia: Ewa Szefowa"
    assert result.is_empty
    assert [f.value for f in result.figures] == [0, 0, 0, 0]


def test_the_system_must_name_the_employee(uow: UnitOfWork, desk: Desk) -> None:
    with pytest.raises(InvalidInput) as error:
        run_report(agenda, uow, Actor.system("scheduler"))
    assert error.value.field == "params.employee"
    result = run_report(agenda, uow, Actor.system("scheduler"), employee="jan")
    assert result.title == "Plan dnia: Jan Kowalski"
    assert result.figures[0].value == 12  # the system reads like an admin


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"period": "month"}, "params.period"),
        ({"employe": "jan"}, "params.employe"),
        ({"employee": 3}, "params.employee"),
    ],
)
def test_bad_parameters_name_the_parameter(params: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as error:
        agenda.check_params(params)
    assert error.value.field == field


def test_parameters_are_normalised() -> None:
    assert agenda.check_params({}) == {"period": "day"}
    assert agenda.check_params({"period": " Week ", "employee": " jan "}) == {
        "period": "week",
        "employee": "jan",
    }


def test_an_unknown_employee_is_named(uow: UnitOfWork, desk: Desk) -> None:
    with pytest.raises(InvalidInput) as error:
        run_report(agenda, uow, desk.boss, employee="nikt")
    assert error.value.field == "params.employee"


def test_demo_data_matches_a_direct_count(uow: UnitOfWork) -> None:
    with freeze_time(NOW):
        demo.load(uow, tasks=150, seed=3, demo_mode=False)
        employee = employee_by_login(uow.session, "anowak")
        reader = actor_for(employee_by_login(uow.session, "kwojcik"))
        ctx = context(agenda, uow, reader, period="week", employee="anowak")
        with counted_queries(uow) as statements:
            result = agenda.build(ctx)
    delegated = set(
        uow.session.scalars(
            select(TaskItem.task_id).where(
                TaskItem.kind == ItemKind.DELEGATION,
                TaskItem.delegate_id == employee.id,
                TaskItem.revoked_at.is_(None),
            )
        )
    )
    mine = [
        task
        for task in uow.session.scalars(select(Task))
        if not task.is_closed
        and (task.responsible_id == employee.id or task.id in delegated)
        and access.can_see(uow.session, reader, task.id)
    ]
    sunday = dt.date(2026, 3, 15)

    def local(moment: dt.datetime, all_day: bool) -> dt.date:
        return moment.date() if all_day else moment.astimezone(WARSAW).date()

    late = {t.number for t in mine if t.is_overdue(NOW)}
    due = {
        t.number
        for t in mine
        if t.due is not None and not t.is_overdue(NOW) and local(t.due, t.all_day) <= sunday
    }
    starting = {
        t.number
        for t in mine
        if t.planned_start is not None
        and not t.is_overdue(NOW)
        and dt.date(2026, 3, 9) <= local(t.planned_start, t.all_day) <= sunday
    }
    assert [f.value for f in result.figures] == [
        len(mine),
        len(late),
        len(due),
        sum(t.due is None and t.planned_start is None for t in mine),
    ]
    assert set(column(result.tables[0], "number")) == late
    assert set(column(result.tables[1], "number")) == due | starting
    assert late and due and starting  # the demo gives her something in every section
    assert len(statements) <= 2  # the employee and the tasks, however many
