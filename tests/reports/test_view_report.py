"""A saved view as a report: structure in both languages, numbers, rights, outside readers."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from hermes_groupware import demo
from hermes_groupware.db.session import UnitOfWork
from hermes_groupware.errors import InvalidInput, NotFound
from hermes_groupware.models import Employee, Register, Task
from hermes_groupware.models.enums import (
    AccessLevel,
    DelegationMode,
    Locale,
    ReportKind,
    TaskStatus,
    ViewAudience,
)
from hermes_groupware.services import access, delegation, saved_views
from hermes_groupware.services.directory import actor_for
from hermes_groupware.services.tasks import add_subtask
from reports import view_report
from reports.scope import reader_context
from tests.factories import Factory
from tests.hermes_groupware.services.view_world import NOW, World, build_world
from tests.reports.reading import (
    column,
    counted_queries,
    everything_readable,
    keys,
    labels,
    run_report,
    totals,
)

COLUMNS = ["number", "subject", "status", "priority", "due", "overdue", "field:wartosc"]


@pytest.fixture
def world(make: Factory, uow: UnitOfWork) -> World:
    built = build_world(make)
    saved_views.create_view(
        uow,
        name="wszystko",
        definition={"include_closed": True},
        columns=COLUMNS,
        sort=["number"],
        audience=ViewAudience.EVERYONE,
        owner="anna",
        description="Wszystkie zadania",
    )
    return built


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"view": " wszystko "}, {"view": "wszystko"}),
        ({"view": "wszystko", "limit": "5"}, {"view": "wszystko", "limit": 5}),
        ({"view": "wszystko", "limit": None}, {"view": "wszystko"}),
    ],
)
def test_params_are_normalised(params: dict[str, Any], expected: dict[str, Any]) -> None:
    assert view_report.check_params(params) == expected


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "params.view"),
        ({"view": " "}, "params.view"),
        ({"view": "x", "limit": 0}, "params.limit"),
        ({"view": "x", "colour": "red"}, "params.colour"),
    ],
)
def test_bad_params_name_the_parameter(params: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as error:
        view_report.check_params(params)
    assert error.value.field == field


def test_structure_in_polish(uow: UnitOfWork, world: World) -> None:
    with freeze_time(NOW):
        result = run_report(view_report, uow, uow.actor, view="wszystko")
    assert result.kind is ReportKind.VIEW
    assert (result.title, result.period) == ("Widok: wszystko", "Stan na 2026-11-27 11:00")
    assert [(f.label, f.value) for f in result.figures] == [("Zadania", 6), ("Po terminie", 2)]
    (table,) = result.tables
    assert table.title == "Wszystkie zadania"
    assert keys(table) == COLUMNS
    assert labels(table) == [
        "Numer",
        "Temat",
        "Status",
        "Priorytet",
        "Termin",
        "Po terminie",
        "Wartość",
    ]
    assert [c.kind for c in table.columns] == [
        "text",
        "text",
        "text",
        "text",
        "datetime",
        "text",
        "decimal",
    ]
    numbers = sorted(t.number for t in world.tasks.values())
    assert column(table, "number") == numbers
    by_number = {row.values["number"]: row for row in table.rows}
    t1, t4 = by_number[world.tasks["t1"].number], by_number[world.tasks["t4"].number]
    assert (t1.overdue, t1.values["overdue"], t1.values["status"], t1.values["priority"]) == (
        True,
        "tak",
        "nowe",
        "wysoki",
    )
    assert t1.values["due"] == dt.date(2026, 11, 26)
    assert (t4.overdue, t4.values["status"], t4.values["field:wartosc"]) == (
        False,
        "zakończone",
        Decimal("1500.5"),
    )
    assert [row.values["number"] for row in table.rows if row.overdue] == sorted(
        [world.tasks["t1"].number, world.tasks["t2"].number]
    )
    assert result.crosstab is not None
    assert labels(result.crosstab) == ["Rejestr", "nowe", "oczekuje", "zakończone", "Razem"]
    assert column(result.crosstab, "register") == ["HN", "RK"]
    assert totals(result.crosstab) == {
        "register": "Razem",
        "new": 4,
        "waiting": 1,
        "done": 1,
        "total": 6,
    }
    assert result.chart is not None
    assert (result.chart.categories, result.chart.series) == (
        ["nowe", "oczekuje", "zakończone"],
        {"Zadania": [4.0, 1.0, 1.0]},
    )


def test_structure_in_english(uow: UnitOfWork, world: World) -> None:
    with freeze_time(NOW):
        result = run_report(view_report, uow, uow.actor, locale=Locale.EN, view="wszystko")
    assert (result.title, result.period) == ("View: wszystko", "As of 2026-11-27 11:00")
    assert [f.label for f in result.figures] == ["Tasks", "Overdue"]
    (table,) = result.tables
    assert labels(table)[:6] == ["Number", "Subject", "Status", "Priority", "Due", "Overdue"]
    assert set(column(table, "status")) == {"new", "waiting", "done"}
    assert set(column(table, "overdue")) == {"yes", "no"}
    assert result.crosstab is not None
    assert labels(result.crosstab) == ["Register", "new", "waiting", "done", "Total"]
    assert result.chart is not None and result.chart.title == "Tasks by status"


def test_numbers_match_a_direct_count(uow: UnitOfWork, world: World) -> None:
    """Counted here from the ORM objects and Task.is_overdue, not by the report's queries."""
    tasks = list(uow.session.scalars(select(Task)))
    codes = {i: code for i, code in uow.session.execute(select(Register.id, Register.code))}
    with freeze_time(NOW):
        result = run_report(view_report, uow, uow.actor, view="wszystko")
    figures = {f.label: f.value for f in result.figures}
    assert figures["Zadania"] == len(tasks)
    assert figures["Po terminie"] == sum(t.is_overdue(NOW) for t in tasks)
    expected = Counter((codes[t.register_id], TaskStatus(t.status).value) for t in tasks)
    assert result.crosstab is not None
    found = Counter(
        {
            (row.values["register"], status): count
            for row in result.crosstab.data_rows
            for status, count in row.values.items()
            if status not in ("register", "total") and count
        }
    )
    assert found == expected


def test_a_limit_cuts_the_rows_not_the_figures(uow: UnitOfWork, world: World) -> None:
    with freeze_time(NOW):
        result = run_report(view_report, uow, uow.actor, view="wszystko", limit=2)
    assert len(result.tables[0].rows) == 2
    assert [f.value for f in result.figures] == [6, 2]


def test_each_reader_sees_only_their_tasks_and_never_a_hidden_parent(
    uow: UnitOfWork, world: World, make: Factory
) -> None:
    secret = make.register("PV", default_access=AccessLevel.NONE)
    with freeze_time(NOW):
        parent = make.task(secret, world.anna, "Przetarg poufny", private=True)
        sub = add_subtask(uow, parent.id, subject="Ocena techniczna", responsible_id=world.anna.id)
        delegation.delegate(uow, sub.id, "cezary", DelegationMode.HIDE_PARENT)
        as_anna = run_report(view_report, uow, make.actor(world.anna), view="wszystko")
        as_cezary = run_report(view_report, uow, make.actor(world.cezary), view="wszystko")
    assert set(column(as_anna.tables[0], "subject")) == world.subjects("t1 t2 t3 t4 t5 t6") | {
        "Ocena techniczna",
        "Przetarg poufny",
    }
    seen = everything_readable(as_cezary)
    assert set(column(as_cezary.tables[0], "subject")) == world.subjects("t1 t2 t3 t5") | {
        "Ocena techniczna"
    }
    for hidden in ("Przetarg poufny", parent.number, "RK", "Zwrot towaru", "1500"):
        assert hidden not in seen
    assert [f.value for f in as_cezary.figures] == [5, 2]


def test_a_reader_who_may_not_use_the_view_gets_not_found(
    uow: UnitOfWork, world: World, make: Factory
) -> None:
    saved_views.create_view(uow, name="anny", definition={}, owner="anna")
    with pytest.raises(NotFound):
        run_report(view_report, uow, make.actor(world.bartek), view="anny")
    with pytest.raises(NotFound):
        run_report(view_report, uow, make.actor(world.bartek), view="nie ma")


def test_outside_readers_see_only_registers_open_to_them(uow: UnitOfWork, world: World) -> None:
    owner = uow.acting_as(actor_for(uow.session.get_one(Employee, world.anna.id)))

    def outside() -> Any:
        ctx = reader_context(
            owner,
            locale=Locale.EN,
            zone=ZoneInfo("Europe/Warsaw"),
            params=view_report.check_params({"view": "wszystko"}),
            outside=True,
        )
        return view_report.build(ctx)

    with freeze_time(NOW):
        closed = outside()
        assert closed.is_empty
        assert (closed.crosstab, closed.chart) == (None, None)
        assert [f.value for f in closed.figures] == [0, 0]
        hn = uow.session.scalar(select(Register).where(Register.code == "HN"))
        assert hn is not None
        hn.external_reports = True
        uow.session.flush()
        opened = outside()
    assert set(column(opened.tables[0], "subject")) == world.subjects("t1 t2 t3 t5")


def test_demo_data_with_a_query_count_that_does_not_grow_with_rows(uow: UnitOfWork) -> None:
    with freeze_time(NOW):
        demo.load(uow, tasks=120, seed=11, demo_mode=False)
        saved_views.create_view(
            uow,
            name="reklamacje",
            definition={"registers": ["REK"], "include_closed": True},
            columns=["number", "subject", "due", "responsible", "field:numer_partii"],
            audience=ViewAudience.EVERYONE,
            owner="admin",
        )
        reader = actor_for(
            uow.session.scalars(select(Employee).where(Employee.login == "mzielinska")).one()
        )
        with counted_queries(uow) as statements:
            result = run_report(view_report, uow, reader, view="reklamacje")
        visible = access.visible_tasks_clause(uow.session, reader, AccessLevel.READ)
        rek = list(
            uow.session.scalars(select(Task).join(Register).where(Register.code == "REK", visible))
        )
    rows = result.tables[0].rows
    assert len(rows) == len(rek) > 10
    assert [f.value for f in result.figures] == [len(rek), sum(t.is_overdue(NOW) for t in rek)]
    assert any(row.values["field:numer_partii"] for row in rows)
    assert len(statements) < 20
