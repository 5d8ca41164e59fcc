"""The overdue and due-this-week report: structure, numbers, rights, filters, demo data."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from hermes_groupware import demo
from hermes_groupware.db.session import Actor, UnitOfWork
from hermes_groupware.errors import InvalidInput
from hermes_groupware.models import Employee, Task
from hermes_groupware.models.enums import AccessLevel, DelegationMode, Locale, TaskStatus
from hermes_groupware.services import access, delegation, directory
from hermes_groupware.services.directory import actor_for
from hermes_groupware.services.lookups import employee_by_login
from reports import overdue
from tests.factories import Factory
from tests.reports.reading import (
    WARSAW,
    column,
    context,
    counted_queries,
    everything_readable,
    keys,
    labels,
    run_report,
    totals,
    utc,
    warsaw,
)

# Wednesday 10:00 in Warsaw; the week is Monday 2026-03-09 .. Sunday 2026-03-15
NOW = utc("2026-03-11", "09:00")


@dataclass
class Office:
    """The fixture data: an admin, a sales rep without the secret register, and their tasks."""

    boss: Actor
    jan: Actor
    numbers: dict[str, str]


@pytest.fixture
def office(make: Factory, uow: UnitOfWork) -> Iterator[Office]:
    with freeze_time(NOW):
        boss = make.employee("szef", first_name="Ewa", last_name="Szefowa", is_admin=True)
        anna = make.employee("anna", first_name="Anna", last_name="Nowak")
        jan = make.employee("jan", first_name="Jan", last_name="Kowalski")
        piotr = make.employee("piotr", first_name="Piotr", last_name="Wiśniewski")
        han = make.register("HAN", default_access=AccessLevel.READ)
        sec = make.register("SEC", default_access=AccessLevel.NONE)
        client = make.customer("Łódzka Fabryka Okien")
        numbers: dict[str, str] = {}

        def task(key: str, register: object, who: object, **changes: object) -> Task:
            created = make.task(register, who, f"Zadanie {key}", **changes)  # type: ignore[arg-type]
            numbers[key] = created.number
            return created

        task("late-timed", han, anna, due=warsaw("2026-03-05", "12:00"), customer_id=client.id)
        task("late-all-day", han, anna, due=utc("2026-03-10"), all_day=True)
        task("late-today", han, jan, due=warsaw("2026-03-11", "08:00"))
        task("later-today", han, jan, due=warsaw("2026-03-11", "17:00"))
        task("sunday-all-day", han, anna, due=utc("2026-03-15"), all_day=True)
        task("sunday-night", han, jan, due=warsaw("2026-03-15", "23:30"))
        task("monday-early", han, jan, due=warsaw("2026-03-16", "00:30"))  # Sunday in UTC
        task("done", han, anna, due=warsaw("2026-03-01", "10:00"), status=TaskStatus.DONE)
        task("cancelled", han, anna, due=warsaw("2026-03-02"), status=TaskStatus.CANCELLED)
        task("no-due", han, anna)
        task("secret", sec, piotr, due=warsaw("2026-03-04", "09:00"))
        task("private", han, piotr, due=warsaw("2026-03-06", "09:00"), private=True)
        parent = task("parent", sec, piotr, due=warsaw("2026-03-03", "09:00"))
        sub = task("sub", sec, piotr, parent=parent, due=warsaw("2026-03-12", "09:00"))
        delegation.delegate(uow, sub.id, "jan", DelegationMode.HIDE_PARENT)
        yield Office(boss=make.actor(boss), jan=make.actor(jan), numbers=numbers)


def _numbers(office: Office, *keys_: str) -> list[str]:
    return [office.numbers[key] for key in keys_]


def test_the_admin_sees_every_task_overdue_first_in_polish(uow: UnitOfWork, office: Office) -> None:
    result = run_report(overdue, uow, office.boss)
    assert result.title == "Zaległe i z terminem w tym tygodniu"
    assert result.period == "Stan na 2026-03-11; tydzień 2026-03-09 – 2026-03-15"
    assert result.generated_at == NOW
    assert result.time_zone == "Europe/Warsaw"
    assert [(f.label, f.value) for f in result.figures] == [
        ("Zaległe", 6),
        ("Termin w tym tygodniu", 4),
    ]
    tasks, people, registers = result.tables
    assert tasks.title == "Zadania zaległe i z terminem w tym tygodniu"
    assert labels(tasks) == [
        "Numer",
        "Temat",
        "Rejestr",
        "Odpowiedzialny",
        "Kontrahent",
        "Termin",
        "Dni po terminie",
    ]
    assert column(tasks, "number") == _numbers(
        office,
        *("parent", "secret", "late-timed", "private", "late-all-day", "late-today"),
        *("later-today", "sub", "sunday-all-day", "sunday-night"),
    )
    assert [row.overdue for row in tasks.rows] == [True] * 6 + [False] * 4
    assert column(tasks, "days_overdue") == [8, 7, 6, 5, 1, 0, None, None, None, None]
    assert column(tasks, "due")[2] == dt.date(2026, 3, 5)
    assert column(tasks, "due")[-1] == dt.date(2026, 3, 15)  # 22:30 UTC is Sunday in Warsaw
    assert column(tasks, "customer")[2] == "Łódzka Fabryka Okien"
    assert column(tasks, "responsible")[0] == "Piotr Wiśniewski"

    assert (people.title, labels(people)) == (
        "Według pracownika",
        ["Pracownik", "Zaległe", "Termin w tym tygodniu"],
    )
    assert [
        (r.values["employee"], r.values["overdue"], r.values["due_week"]) for r in people.rows
    ] == [
        ("Piotr Wiśniewski", 3, 1),
        ("Anna Nowak", 2, 1),
        ("Jan Kowalski", 1, 2),
        ("Razem", 6, 4),
    ]
    assert people.rows[-1].total
    assert (registers.title, keys(registers)) == (
        "Według rejestru",
        ["register", "name", "overdue", "due_week"],
    )
    assert column(registers, "register") == ["HAN", "SEC"]
    assert column(registers, "overdue") == [4, 2]
    assert column(registers, "due_week") == [3, 1]


def test_chart_and_crosstab_follow_the_employees(uow: UnitOfWork, office: Office) -> None:
    result = run_report(overdue, uow, office.boss)
    assert result.chart is not None
    assert result.chart.kind == "stacked"
    assert result.chart.categories == ["Piotr Wiśniewski", "Anna Nowak", "Jan Kowalski"]
    assert result.chart.series == {
        "Zaległe": [3.0, 2.0, 1.0],
        "Termin w tym tygodniu": [1.0, 1.0, 2.0],
    }
    crosstab = result.crosstab
    assert crosstab is not None
    assert keys(crosstab) == ["employee", "HAN", "SEC", "total"]
    assert [list(row.values.values()) for row in crosstab.rows] == [
        ["Piotr Wiśniewski", 1, 2, 3],
        ["Anna Nowak", 2, 0, 2],
        ["Jan Kowalski", 1, 0, 1],
        ["Razem", 4, 2, 6],
    ]


def test_english_titles_and_columns(uow: UnitOfWork, office: Office) -> None:
    result = run_report(overdue, uow, office.boss, locale=Locale.EN)
    assert result.title == "Overdue and due this week"
    assert result.period == "As of 2026-03-11; week 2026-03-09 – 2026-03-15"
    assert [f.label for f in result.figures] == ["Overdue", "Due this week"]
    assert [t.title for t in result.tables] == [
        "Tasks overdue or due this week",
        "Per employee",
        "Per register",
    ]
    assert labels(result.tables[0]) == [
        "Number",
        "Subject",
        "Register",
        "Responsible",
        "Customer",
        "Due",
        "Days overdue",
    ]
    assert totals(result.tables[1])["employee"] == "Total"
    assert result.crosstab is not None
    assert result.crosstab.title == "Overdue: employee × register"


def test_a_reader_without_the_register_sees_neither_its_tasks_nor_a_hidden_parent(
    uow: UnitOfWork, office: Office
) -> None:
    result = run_report(overdue, uow, office.jan)
    tasks, people, registers = result.tables
    assert column(tasks, "number") == _numbers(
        office, "late-timed", "late-all-day", "late-today", "later-today", "sub"
    ) + _numbers(office, "sunday-all-day", "sunday-night")
    assert [(f.value) for f in result.figures] == [3, 4]
    assert column(registers, "register") == ["HAN", "SEC"]
    assert column(registers, "overdue") == [3, 0]  # SEC: only the delegated sub-task
    assert column(people, "employee") == ["Anna Nowak", "Jan Kowalski", "Piotr Wiśniewski"]
    assert result.crosstab is not None
    assert keys(result.crosstab) == ["employee", "HAN", "total"]
    assert totals(result.crosstab)["total"] == 3
    readable = everything_readable(result)
    for hidden in ("parent", "secret", "private"):
        assert office.numbers[hidden] not in readable
        assert f"Zadanie {hidden}" not in readable


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"register": "sec"}, ("parent", "secret", "sub")),
        ({"assignee": "jan"}, ("late-today", "later-today", "sunday-night")),
        ({"group": "handel"}, ("late-timed", "late-all-day", "sunday-all-day")),
    ],
)
def test_filters_narrow_the_tasks(
    uow: UnitOfWork, office: Office, params: dict[str, str], expected: tuple[str, ...]
) -> None:
    directory.add_group(uow, "handel", "Handel")
    directory.add_member(uow, "handel", "anna")
    result = run_report(overdue, uow, office.boss, **params)
    assert column(result.tables[0], "number") == _numbers(office, *expected)
    assert result.title.startswith("Zaległe i z terminem w tym tygodniu (")


def test_bad_parameters_name_the_parameter(uow: UnitOfWork, office: Office) -> None:
    with pytest.raises(InvalidInput) as unknown:
        overdue.check_params({"registr": "HAN"})
    assert unknown.value.field == "params.registr"
    with pytest.raises(InvalidInput) as wrong_type:
        overdue.check_params({"assignee": 7})
    assert wrong_type.value.field == "params.assignee"
    assert overdue.check_params({"register": " han ", "group": ""}) == {"register": "HAN"}
    with pytest.raises(InvalidInput) as missing:
        run_report(overdue, uow, office.boss, register="NOPE")
    assert missing.value.field == "params.register"


def test_nothing_due_is_an_empty_report(uow: UnitOfWork, office: Office, make: Factory) -> None:
    make.register("PUSTY")
    result = run_report(overdue, uow, office.boss, register="PUSTY")
    assert result.is_empty
    assert [f.value for f in result.figures] == [0, 0]
    assert all(table.rows == [] for table in result.tables)
    assert result.chart is None
    assert result.crosstab is None


def test_the_week_ends_at_local_midnight_across_the_dst_change(
    uow: UnitOfWork, make: Factory
) -> None:
    with freeze_time(utc("2026-03-27", "09:00")):  # Friday; clocks go forward on Sunday
        boss = make.employee(is_admin=True)
        register, rep = make.register("DST"), make.employee()
        inside = make.task(register, rep, due=warsaw("2026-03-29", "23:30"))  # 21:30 UTC
        make.task(register, rep, due=warsaw("2026-03-30", "00:30"))  # Sunday 22:30 UTC
        result = run_report(overdue, uow, make.actor(boss))
    assert result.period == "Stan na 2026-03-27; tydzień 2026-03-23 – 2026-03-29"
    assert column(result.tables[0], "number") == [inside.number]


@pytest.mark.parametrize("login", ["admin", "kwojcik"])
def test_demo_data_matches_a_direct_count(uow: UnitOfWork, login: str) -> None:
    with freeze_time(NOW):
        demo.load(uow, tasks=150, seed=3, demo_mode=False)
        reader = actor_for(employee_by_login(uow.session, login))
        ctx = context(overdue, uow, reader)
        with counted_queries(uow) as statements:
            result = overdue.build(ctx)
    sunday = dt.date(2026, 3, 15)
    expected_overdue, expected_week = set(), set()
    for task in uow.session.scalars(select(Task)):
        if task.due is None or task.is_closed or not access.can_see(uow.session, reader, task.id):
            continue
        day = task.due.date() if task.all_day else task.due.astimezone(WARSAW).date()
        if task.is_overdue(NOW):
            expected_overdue.add(task.number)
        elif day <= sunday:
            expected_week.add(task.number)
    tasks, people, registers = result.tables
    rows = {row.values["number"]: row.overdue for row in tasks.rows}
    assert {n for n, late in rows.items() if late} == expected_overdue
    assert {n for n, late in rows.items() if not late} == expected_week
    assert [f.value for f in result.figures] == [len(expected_overdue), len(expected_week)]
    assert totals(people)["overdue"] == totals(registers)["overdue"] == len(expected_overdue)
    assert expected_overdue  # the demo has overdue tasks to count
    names = {e.id: e.full_name for e in uow.session.scalars(select(Employee))}
    by_person = Counter(
        names[t.responsible_id]
        for t in uow.session.scalars(select(Task).where(Task.number.in_(expected_overdue)))
    )
    assert {r.values["employee"]: r.values["overdue"] for r in people.data_rows} == {
        name: by_person[name] for name in column(people, "employee")
    }
    assert len(statements) <= 3  # the task list and the names, whatever the number of tasks
