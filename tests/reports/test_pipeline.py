"""The sales pipeline report on hand-made opportunities with a week of history, and on demo data.

Expected numbers are worked out by hand in the comments of ``pipeline_data``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from hermes_groupware import demo
from hermes_groupware.db.session import UnitOfWork
from hermes_groupware.errors import InvalidInput
from hermes_groupware.models import Task
from hermes_groupware.models.enums import AccessLevel, DelegationMode, Locale, TaskStatus
from hermes_groupware.services import delegation
from hermes_groupware.services.directory import EmployeeView
from hermes_groupware.services.tasks import Opportunity, TaskChanges, set_status, update_task
from reports import pipeline
from reports.model import ReportResult, Table
from reports.scope import reader_context
from tests.factories import Factory

WARSAW = ZoneInfo("Europe/Warsaw")
START = dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)
BEFORE_WEEK = dt.datetime(2026, 3, 5, 9, tzinfo=dt.UTC)
WEEK_AGO = dt.datetime(2026, 3, 11, 10, tzinfo=dt.UTC)
IN_WEEK = dt.datetime(2026, 3, 15, 9, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 3, 18, 10, tzinfo=dt.UTC)


@contextmanager
def at(uow: UnitOfWork, when: dt.datetime) -> Iterator[None]:
    """Writes stamped at ``when`` (the history triggers take the time from the change context)."""
    with freeze_time(when):
        uow.acting_as(uow.actor)
        yield


def opp(value: str, probability: int | None, stage: str, close: dt.date | None) -> Opportunity:
    return Opportunity(Decimal(value), probability, stage, close)


@dataclass
class Pipeline:
    rep_a: EmployeeView
    rep_b: EmployeeView
    manager: EmployeeView
    delegate: EmployeeView


@pytest.fixture
def pipeline_data(uow: UnitOfWork, make: Factory) -> Pipeline:
    """HAN (everyone reads) holds the numbers below; SEC and PRZ are closed registers.

    Now (2026-03-18) in HAN, months 2026-03..2026-08 in the window:
    o1 A oferta 12000 @50 03-25 → 6000      o2 A negocjacje 20000.50 @50 05-10 → 10000.25
    o3 A oferta 5000 @- no date → 0          o4 B kwalifikacja 7000 @10 01-15 (passed) → 700
    o7 A negocjacje 40000 @90 12-01 → 36000  o8 B oferta 1000 @20 04-02 → 200
    o10 A kwalifikacja 2000 @50 03-31 → 1000
    A week ago: o1 10000@50, o2 @75 (then 60, now 50), o3 was B's, o4 7000 (changed before),
    o9 A 8000@25 open, o8 did not exist, o10 had no value.
    """
    rep_a = make.employee("adamski", first_name="Adam", last_name="Adamski")
    rep_b = make.employee("bielska", first_name="Beata", last_name="Bielska")
    manager = make.employee("kierownik", first_name="Marek", last_name="Kierownik")
    deleg = make.employee("serwisant", first_name="Sebastian", last_name="Serwisant")
    with at(uow, START):
        han = make.register("HAN", default_access=AccessLevel.READ)
        sec = make.register("SEC", default_access=AccessLevel.NONE)
        prz = make.register("PRZ", default_access=AccessLevel.NONE)
        o1 = make.task(han, rep_a, opportunity=opp("10000", 50, "oferta", dt.date(2026, 3, 25)))
        o2 = make.task(
            han, rep_a, opportunity=opp("20000.50", 75, "negocjacje", dt.date(2026, 5, 10))
        )
        o3 = make.task(han, rep_b, opportunity=opp("5000", None, "oferta", None))
        o4 = make.task(
            han, rep_b, opportunity=opp("6000", 10, "kwalifikacja", dt.date(2026, 1, 15))
        )
        make.task(
            han,
            rep_b,
            status=TaskStatus.DONE,
            opportunity=opp("3000", 90, "wygrana", dt.date(2026, 3, 1)),
        )
        make.task(han, rep_a, subject="bez wartości")
        make.task(han, rep_a, opportunity=opp("40000", 90, "negocjacje", dt.date(2026, 12, 1)))
        o9 = make.task(han, rep_a, opportunity=opp("8000", 25, "oferta", dt.date(2026, 3, 20)))
        o10 = make.task(han, rep_a, subject="później wyceniona")
        make.task(sec, rep_a, opportunity=opp("100000", 50, "oferta", dt.date(2026, 3, 20)))
        parent = make.task(
            prz, rep_a, "Przetarg poufny", opportunity=opp("1000000", 10, "oferta", None)
        )
        sub = make.task(
            prz,
            rep_a,
            "Ocena techniczna",
            parent=parent,
            opportunity=opp("500", 50, "oferta", dt.date(2026, 4, 30)),
        )
        delegation.delegate(uow, sub.id, deleg.login, DelegationMode.HIDE_PARENT)
    with at(uow, BEFORE_WEEK):
        update_task(
            uow,
            o4.id,
            TaskChanges(opportunity=opp("7000", 10, "kwalifikacja", dt.date(2026, 1, 15))),
        )
    with at(uow, IN_WEEK):
        update_task(
            uow, o1.id, TaskChanges(opportunity=opp("12000", 50, "oferta", dt.date(2026, 3, 25)))
        )
        update_task(
            uow,
            o2.id,
            TaskChanges(opportunity=opp("20000.50", 60, "negocjacje", dt.date(2026, 5, 10))),
        )
        update_task(uow, o3.id, TaskChanges(responsible_id=rep_a.id))
        set_status(uow, o9.id, TaskStatus.DONE)
        update_task(
            uow,
            o10.id,
            TaskChanges(opportunity=opp("2000", 50, "kwalifikacja", dt.date(2026, 3, 31))),
        )
        make.task(han, rep_b, opportunity=opp("1000", 20, "oferta", dt.date(2026, 4, 2)))
    with at(uow, IN_WEEK + dt.timedelta(days=1)):  # the first change after a week ago counts
        update_task(
            uow,
            o2.id,
            TaskChanges(opportunity=opp("20000.50", 50, "negocjacje", dt.date(2026, 5, 10))),
        )
    return Pipeline(rep_a, rep_b, manager, deleg)


def report(
    uow: UnitOfWork,
    make: Factory,
    reader: EmployeeView | None,
    locale: Locale = Locale.PL,
    **params: Any,
) -> ReportResult:
    with freeze_time(NOW):
        as_reader = uow.acting_as(make.actor(reader)) if reader else uow
        ctx = reader_context(
            as_reader, locale=locale, zone=WARSAW, params=pipeline.check_params(params)
        )
        return pipeline.build(ctx)


def column(table: Table, key: str) -> list[Any]:
    return [row.values[key] for row in table.rows]


def test_golden_structure_in_polish(uow: UnitOfWork, make: Factory, pipeline_data: Pipeline):
    result = report(uow, make, pipeline_data.manager)

    assert result.title == "Prognoza sprzedaży"
    assert result.period == "Stan na 2026-03-18, zmiany od 2026-03-11"
    assert result.time_zone == "Europe/Warsaw"
    assert result.generated_at == NOW
    assert [t.title for t in result.tables] == [
        "Według etapu",
        "Według miesiąca zamknięcia",
        "Według handlowca",
    ]
    stage, month, rep = result.tables
    assert [c.label for c in stage.columns] == ["Etap", "Liczba", "Wartość", "Wartość ważona"]
    assert column(stage, "stage") == ["kwalifikacja", "negocjacje", "oferta", "Razem"]
    assert column(month, "month") == [
        "2026-01",
        "2026-03",
        "2026-04",
        "2026-05",
        "2026-06",
        "2026-07",
        "2026-08",
        "po 2026-08",
        "bez daty",
        "Razem",
    ]
    assert [r.overdue for r in month.rows] == [True] + [False] * 9
    assert [r.total for r in month.rows] == [False] * 9 + [True]
    assert [c.label for c in rep.columns] == [
        "Handlowiec",
        "Liczba",
        "Wartość",
        "Zmiana wartości (7 dni)",
        "Wartość ważona",
        "Zmiana ważonej (7 dni)",
    ]
    assert column(rep, "rep") == ["Adam Adamski", "Beata Bielska", "Razem"]
    assert [f.label for f in result.figures] == [
        "Otwarte szanse",
        "Wartość",
        "Wartość ważona",
        "Zmiana ważonej od tygodnia",
    ]
    assert result.chart is not None
    assert result.chart.kind == "stacked"
    assert result.chart.categories == column(month, "month")[:-1]
    assert list(result.chart.series) == ["kwalifikacja", "negocjacje", "oferta"]
    assert result.crosstab is not None
    assert [c.label for c in result.crosstab.columns] == [
        "Etap",
        *column(month, "month")[:-1],
        "Razem",
    ]


def test_golden_structure_in_english(uow: UnitOfWork, make: Factory, pipeline_data: Pipeline):
    result = report(uow, make, pipeline_data.manager, Locale.EN)

    assert result.title == "Sales pipeline forecast"
    assert result.period == "As of 2026-03-18, changes since 2026-03-11"
    assert [t.title for t in result.tables] == [
        "By stage",
        "By expected close month",
        "By sales rep",
    ]
    assert [c.label for c in result.tables[2].columns] == [
        "Sales rep",
        "Count",
        "Value",
        "Value change (7 days)",
        "Weighted value",
        "Weighted change (7 days)",
    ]
    assert column(result.tables[1], "month")[-3:] == ["after 2026-08", "no date", "Total"]
    assert result.figures[3].label == "Weighted change since last week"
    assert result.crosstab is not None
    assert result.crosstab.title == "Weighted value: stage × close month"


def test_numbers_now_and_a_week_ago(uow: UnitOfWork, make: Factory, pipeline_data: Pipeline):
    result = report(uow, make, pipeline_data.manager)
    stage, month, rep = result.tables

    assert [(f.value, f.kind) for f in result.figures] == [
        (7, "int"),
        (Decimal("87000.50"), "money"),
        (Decimal("53900.25"), "money"),
        (Decimal("-4800.13"), "money"),  # 53900.25 - 58700.375 rounded to 58700.38
    ]
    assert [(r.values["count"], r.values["value"], r.values["weighted"]) for r in stage.rows] == [
        (2, Decimal("9000"), Decimal("1700.00")),
        (2, Decimal("60000.50"), Decimal("46000.25")),
        (3, Decimal("18000"), Decimal("6200.00")),
        (7, Decimal("87000.50"), Decimal("53900.25")),
    ]
    assert [(r.values["count"], r.values["value"], r.values["weighted"]) for r in month.rows] == [
        (1, Decimal("7000"), Decimal("700.00")),
        (2, Decimal("14000"), Decimal("7000.00")),
        (1, Decimal("1000"), Decimal("200.00")),
        (1, Decimal("20000.50"), Decimal("10000.25")),
        (0, Decimal("0"), Decimal("0")),
        (0, Decimal("0"), Decimal("0")),
        (0, Decimal("0"), Decimal("0")),
        (1, Decimal("40000"), Decimal("36000.00")),
        (1, Decimal("5000"), Decimal("0.00")),
        (7, Decimal("87000.50"), Decimal("53900.25")),
    ]
    # A: now o1 o2 o3 o7 o10; a week ago o1(10000@50) o2(@75) o7 o9 = 78000.50 / 58000.375
    # B: now o4 o8; a week ago o3 o4 = 12000 / 700
    assert [tuple(r.values.values())[1:] for r in rep.rows] == [
        (5, Decimal("79000.50"), Decimal("1000.00"), Decimal("53000.25"), Decimal("-5000.13")),
        (2, Decimal("8000"), Decimal("-4000"), Decimal("900.00"), Decimal("200.00")),
        (7, Decimal("87000.50"), Decimal("-3000.00"), Decimal("53900.25"), Decimal("-4800.13")),
    ]


def test_chart_and_crosstab(uow: UnitOfWork, make: Factory, pipeline_data: Pipeline):
    result = report(uow, make, pipeline_data.manager, months=3)

    assert result.chart is not None
    months = ["2026-01", "2026-03", "2026-04", "2026-05", "po 2026-05", "bez daty"]
    assert result.chart.categories == months
    assert result.chart.series == {
        "kwalifikacja": [700.0, 1000.0, 0.0, 0.0, 0.0, 0.0],
        "negocjacje": [0.0, 0.0, 0.0, 10000.25, 36000.0, 0.0],
        "oferta": [0.0, 6000.0, 200.0, 0.0, 0.0, 0.0],
    }
    assert result.crosstab is not None
    assert [c.label for c in result.crosstab.columns] == ["Etap", *months, "Razem"]
    cells = {
        row.values["stage"]: [row.values[c.key] for c in result.crosstab.columns[1:]]
        for row in result.crosstab.rows
    }
    assert cells == {
        "kwalifikacja": [
            Decimal("700.00"),
            Decimal("1000.00"),
            Decimal("0"),
            Decimal("0"),
            Decimal("0"),
            Decimal("0"),
            Decimal("1700.00"),
        ],
        "negocjacje": [
            Decimal("0"),
            Decimal("0"),
            Decimal("0"),
            Decimal("10000.25"),
            Decimal("36000.00"),
            Decimal("0"),
            Decimal("46000.25"),
        ],
        "oferta": [
            Decimal("0"),
            Decimal("6000.00"),
            Decimal("200.00"),
            Decimal("0"),
            Decimal("0"),
            Decimal("0.00"),
            Decimal("6200.00"),
        ],
        "Razem": [
            Decimal("700.00"),
            Decimal("7000.00"),
            Decimal("200.00"),
            Decimal("10000.25"),
            Decimal("36000.00"),
            Decimal("0.00"),
            Decimal("53900.25"),
        ],
    }
    assert result.crosstab.rows[-1].total


def test_filters_by_rep_and_register(uow: UnitOfWork, make: Factory, pipeline_data: Pipeline):
    only_b = report(uow, make, None, assignee="bielska", register="han")

    assert only_b.figures[0].value == 2
    assert only_b.figures[3].value == Decimal("200.00")
    assert [r.values["rep"] for r in only_b.tables[2].rows] == ["Beata Bielska", "Razem"]


def test_a_reader_never_sees_registers_or_parents_they_may_not_read(
    uow: UnitOfWork, make: Factory, pipeline_data: Pipeline
):
    admin = report(uow, make, None)
    manager = report(uow, make, pipeline_data.manager)
    delegate = report(uow, make, pipeline_data.delegate, register="PRZ")
    secret = report(uow, make, pipeline_data.manager, register="SEC")

    # the administrator sees SEC (100000 @50) and PRZ (1000000 @10 and the 500 @50 sub-task)
    assert admin.figures[1].value == Decimal("87000.50") + 100000 + 1000000 + 500
    assert manager.figures[1].value == Decimal("87000.50")
    assert delegate.figures[0].value == 1
    assert delegate.figures[1].value == Decimal("500")
    assert all(
        value != Decimal(1000000)
        for table in delegate.tables
        for row in table.rows
        for value in row.values.values()
    )
    assert secret.is_empty
    assert secret.figures[0].value == 0


def test_nothing_to_forecast_is_empty(uow: UnitOfWork, make: Factory):
    rep = make.employee()
    make.task(make.register(), rep, subject="bez szansy")

    result = report(uow, make, rep, months=2)

    assert result.is_empty
    assert [t.rows for t in result.tables] == [[], [], []]
    assert result.chart is None
    assert result.crosstab is None


def test_parameters_are_checked():
    assert pipeline.check_params({"months": "12", "register": " HAN "}) == {
        "register": "HAN",
        "assignee": None,
        "months": 12,
    }
    with pytest.raises(InvalidInput) as unknown:
        pipeline.check_params({"month": 3})
    assert unknown.value.field == "params.month"
    with pytest.raises(InvalidInput) as too_many:
        pipeline.check_params({"months": 25})
    assert too_many.value.field == "params.months"


def test_an_unknown_register_is_named(uow: UnitOfWork, make: Factory):
    with pytest.raises(InvalidInput) as error:
        report(uow, make, None, register="NOPE")
    assert error.value.field == "params.register"


def test_demo_data_matches_a_direct_count(uow: UnitOfWork):
    with freeze_time(NOW):
        demo.load(uow, tasks=300, seed=3, demo_mode=False)
    tasks = uow.session.scalars(select(Task).where(Task.opportunity_value.is_not(None))).all()
    open_ = [t for t in tasks if not t.is_closed]
    weighted = sum(
        (
            t.opportunity_value * (t.opportunity_probability or 0) / 100
            for t in open_
            if t.opportunity_value
        ),
        Decimal(0),
    )

    with freeze_time(NOW):
        result = pipeline.build(
            reader_context(uow, locale=Locale.EN, zone=WARSAW, params=pipeline.check_params({}))
        )

    assert len(open_) > 10
    assert result.figures[0].value == len(open_)
    assert result.figures[1].value == sum((t.opportunity_value or 0 for t in open_), Decimal(0))
    assert result.figures[2].value == round(weighted, 2)
    # everything was created just now: a week ago there was nothing
    assert result.figures[3].value == result.figures[2].value
    assert sum(r.values["count"] for r in result.tables[1].data_rows) == len(open_)
