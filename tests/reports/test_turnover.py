"""The turnover report on hand-made document links, and on demo data.

"Now" is Monday 2026-03-02 09:00 in Warsaw: with ``period=month`` the report shows February
against January. Expected numbers are in the docstring of ``documents``.
"""

from __future__ import annotations

import datetime as dt
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
from hermes_groupware.models import TaskItem
from hermes_groupware.models.enums import (
    AccessLevel,
    CustomerKind,
    DelegationMode,
    ItemKind,
    Locale,
)
from hermes_groupware.services import delegation, items
from hermes_groupware.services.directory import EmployeeView
from reports import turnover
from reports.model import ReportResult, Table
from reports.scope import reader_context
from reports.turnover.periods import last_two
from tests.factories import Factory

WARSAW = ZoneInfo("Europe/Warsaw")
NOW = dt.datetime(2026, 3, 2, 8, tzinfo=dt.UTC)


@dataclass
class Readers:
    manager: EmployeeView
    delegate: EmployeeView


def link(uow: UnitOfWork, task_id: int, number: str, day: str, amount: str, currency: str = "PLN"):
    doc_type = number.partition("/")[0]
    items.add_document_link(
        uow,
        task_id,
        document_type=doc_type,
        document_number=number,
        document_date=dt.date.fromisoformat(day),
        amount=Decimal(amount),
        currency=currency,
    )


@pytest.fixture
def documents(uow: UnitOfWork, make: Factory) -> Readers:
    """HAN is readable by everyone, SEC by nobody; P is private, S its sub-task delegated to D.

    Manager, month FV: PLN Alfa 1000 vs 400 (FV/1 linked twice counts once), Beta 270.50
    (250.50 + S's 20) vs 0, no customer 50 vs 0, Gamma 0 vs 300; EUR Alfa 100 vs 0.
    Left out: ZK/1 (an order), FV/5 (March), FV/6 (December), SEC's FV/9, P's FV/10.
    """
    manager = make.employee("kierownik", first_name="Marek", last_name="Kierownik")
    deleg = make.employee("serwisant", first_name="Sebastian", last_name="Serwisant")
    rep = make.employee("handlowiec")
    han = make.register("HAN", default_access=AccessLevel.READ)
    sec = make.register("SEC", default_access=AccessLevel.NONE)
    alfa = make.customer("Alfa sp. z o.o.").id
    beta = make.customer("Beta S.A.", kind=CustomerKind.PROSPECT).id
    gamma = make.customer("Gamma s.c.").id
    task_a = make.task(han, rep, customer_id=alfa).id
    link(uow, task_a, "FV/1", "2026-02-10", "1000.00")
    link(uow, task_a, "FV/2", "2026-01-15", "400.00")
    link(uow, task_a, "ZK/1", "2026-02-11", "9999.00")
    link(uow, task_a, "FV/3", "2026-02-12", "100.00", "EUR")
    task_b = make.task(han, rep, customer_id=alfa).id
    link(uow, task_b, "FV/1", "2026-02-10", "1000.00")
    task_c = make.task(han, rep, customer_id=beta).id
    link(uow, task_c, "FV/4", "2026-02-20", "250.50")
    link(uow, task_c, "FV/5", "2026-03-01", "777.00")
    link(uow, task_c, "FV/6", "2025-12-31", "55.00")
    link(uow, make.task(han, rep, customer_id=gamma).id, "FV/7", "2026-01-05", "300.00")
    link(uow, make.task(han, rep).id, "FV/8", "2026-02-01", "50.00")
    link(uow, make.task(sec, rep, customer_id=gamma).id, "FV/9", "2026-02-15", "5000.00")
    parent = make.task(han, rep, "Przetarg poufny", private=True, customer_id=beta)
    link(uow, parent.id, "FV/10", "2026-02-03", "7000.00")
    sub = make.task(han, rep, "Ocena techniczna", parent=parent, customer_id=beta)
    link(uow, sub.id, "FV/11", "2026-02-04", "20.00")
    delegation.delegate(uow, sub.id, deleg.login, DelegationMode.HIDE_PARENT)
    return Readers(manager, deleg)


def report(
    uow: UnitOfWork,
    reader: EmployeeView | None,
    locale: Locale = Locale.PL,
    now: dt.datetime = NOW,
    **params: Any,
) -> ReportResult:
    with freeze_time(now):
        as_reader = uow.acting_as(Factory(uow).actor(reader)) if reader else uow
        ctx = reader_context(
            as_reader, locale=locale, zone=WARSAW, params=turnover.check_params(params)
        )
        return turnover.build(ctx)


def amounts(table: Table) -> list[tuple[Any, ...]]:
    return [tuple(row.values.values()) for row in table.rows]


def test_golden_structure_in_polish(uow: UnitOfWork, documents: Readers):
    result = report(uow, documents.manager)

    assert result.title == "Obroty według kontrahentów"
    assert result.period == (
        "2026-02 (2026-02-01 – 2026-02-28) wobec 2026-01 (2026-01-01 – 2026-01-31); dokumenty: FV"
    )
    assert [t.title for t in result.tables] == [
        "Obroty według kontrahentów (PLN)",
        "Obroty według kontrahentów (EUR)",
    ]
    pln = result.tables[0]
    assert [c.label for c in pln.columns] == [
        "Kontrahent",
        "2026-02",
        "2026-01",
        "Zmiana",
        "Zmiana %",
    ]
    assert [c.kind for c in pln.columns] == ["text", "money", "money", "money", "percent"]
    assert [r.values["customer"] for r in pln.rows] == [
        "Alfa sp. z o.o.",
        "Beta S.A.",
        "(bez kontrahenta)",
        "Gamma s.c.",
        "Razem",
    ]
    assert [r.total for r in pln.rows] == [False] * 4 + [True]
    assert [f.label for f in result.figures] == [
        "Obroty 2026-02 (PLN)",
        "Obroty 2026-01 (PLN)",
        "Zmiana % (PLN)",
        "Obroty 2026-02 (EUR)",
        "Obroty 2026-01 (EUR)",
        "Zmiana % (EUR)",
        "Kontrahenci z obrotami",
    ]
    assert result.chart is not None
    assert result.chart.title == "Największych 10 kontrahentów (PLN)"
    assert result.crosstab is not None
    assert result.crosstab.title == "Obroty: kontrahent × miesiąc"
    assert [c.label for c in result.crosstab.columns] == [
        "Kontrahent",
        "Waluta",
        "2026-01",
        "2026-02",
        "Razem",
    ]


def test_golden_structure_in_english(uow: UnitOfWork, documents: Readers):
    result = report(uow, documents.manager, Locale.EN)

    assert result.title == "Turnover by customer"
    assert result.period.startswith("2026-02 (2026-02-01 – 2026-02-28) vs 2026-01")
    assert result.tables[0].title == "Turnover by customer (PLN)"
    assert [c.label for c in result.tables[0].columns] == [
        "Customer",
        "2026-02",
        "2026-01",
        "Change",
        "Change %",
    ]
    assert result.tables[0].rows[2].values["customer"] == "(no customer)"
    assert result.figures[-1].label == "Customers with turnover"
    assert result.chart is not None
    assert result.chart.title == "Top 10 customers (PLN)"


def test_numbers_per_customer_and_currency(uow: UnitOfWork, documents: Readers):
    result = report(uow, documents.manager)
    pln, eur = result.tables

    d = Decimal
    assert amounts(pln) == [
        ("Alfa sp. z o.o.", d("1000.00"), d("400.00"), d("600.00"), d("150.0")),
        ("Beta S.A.", d("270.50"), d(0), d("270.50"), None),
        ("(bez kontrahenta)", d("50.00"), d(0), d("50.00"), None),
        ("Gamma s.c.", d(0), d("300.00"), d("-300.00"), d("-100.0")),
        ("Razem", d("1320.50"), d("700.00"), d("620.50"), d("88.6")),
    ]
    assert amounts(eur) == [
        ("Alfa sp. z o.o.", d("100.00"), d(0), d("100.00"), None),
        ("Razem", d("100.00"), d(0), d("100.00"), None),
    ]
    assert [(f.value, f.kind) for f in result.figures] == [
        (d("1320.50"), "money"),
        (d("700.00"), "money"),
        (d("88.6"), "percent"),
        (d("100.00"), "money"),
        (d(0), "money"),
        (None, "percent"),
        (2, "int"),  # Alfa and Beta; Gamma bought nothing in February
    ]
    assert result.chart is not None
    assert result.chart.categories == [
        "Alfa sp. z o.o.",
        "Beta S.A.",
        "(bez kontrahenta)",
        "Gamma s.c.",
    ]
    assert result.chart.series == {
        "2026-02": [1000.0, 270.5, 50.0, 0.0],
        "2026-01": [400.0, 0.0, 0.0, 300.0],
    }
    assert result.crosstab is not None
    assert amounts(result.crosstab) == [
        ("Alfa sp. z o.o.", "PLN", d(400), d(1000), d(1400)),
        ("Beta S.A.", "PLN", d(0), d("270.50"), d("270.50")),
        ("(bez kontrahenta)", "PLN", d(0), d(50), d(50)),
        ("Gamma s.c.", "PLN", d(300), d(0), d(300)),
        ("Razem", "PLN", d(700), d("1320.50"), d("2020.50")),
        ("Alfa sp. z o.o.", "EUR", d(0), d(100), d(100)),
        ("Razem", "EUR", d(0), d(100), d(100)),
    ]
    assert [r.total for r in result.crosstab.rows] == [False] * 4 + [True, False, True]


def test_document_types_customer_kind_and_week(uow: UnitOfWork, documents: Readers):
    orders_too = report(uow, documents.manager, document_types="fv, zk")
    prospects = report(uow, documents.manager, customer_kind="prospect")
    week = report(uow, documents.manager, period="week")

    assert orders_too.tables[0].rows[0].values["current"] == Decimal("10999.00")
    assert [r.values["customer"] for r in prospects.tables[0].rows] == ["Beta S.A.", "Razem"]
    # Monday 2026-03-02: last week is W09 (02-23..03-01) against W08 (02-16..02-22)
    assert week.period.startswith("2026-W09 (2026-02-23 – 2026-03-01) wobec 2026-W08")
    assert amounts(week.tables[0])[0] == (
        "Beta S.A.",
        Decimal("777.00"),
        Decimal("250.50"),
        Decimal("526.50"),
        Decimal("210.2"),
    )


def test_the_period_is_the_readers_month(uow: UnitOfWork, documents: Readers):
    # 23:30 UTC on 28 February is already 1 March in Warsaw: February is complete there
    result = report(uow, documents.manager, now=dt.datetime(2026, 2, 28, 23, 30, tzinfo=dt.UTC))

    assert result.period.startswith("2026-02 (2026-02-01 – 2026-02-28)")


def test_readers_never_see_amounts_of_tasks_they_may_not_read(uow: UnitOfWork, documents: Readers):
    admin = report(uow, None)
    manager = report(uow, documents.manager)
    deleg = report(uow, documents.delegate)

    def current(result: ReportResult) -> dict[str, Decimal]:
        return {r.values["customer"]: r.values["current"] for r in result.tables[0].rows}

    # SEC's FV/9 (Gamma 5000) and the private parent's FV/10 (Beta 7000) only for the admin
    assert current(admin)["Gamma s.c."] == Decimal("5000.00")
    assert current(admin)["Beta S.A."] == Decimal("7270.50")
    assert current(manager)["Gamma s.c."] == Decimal(0)
    assert current(manager)["Beta S.A."] == Decimal("270.50")
    assert current(deleg)["Beta S.A."] == Decimal("270.50")
    assert current(deleg)["Razem"] == current(manager)["Razem"] == Decimal("1320.50")


def test_no_documents_is_empty(uow: UnitOfWork, documents: Readers):
    result = report(uow, documents.manager, customer_kind="competitor")

    assert result.is_empty
    assert [t.title for t in result.tables] == ["Obroty według kontrahentów (PLN)"]
    assert [f.value for f in result.figures] == [Decimal(0), Decimal(0), None, 0]
    assert result.chart is None
    assert result.crosstab is None


@pytest.mark.parametrize(
    ("today", "kind", "expected"),
    [
        (
            "2026-03-02",
            "week",
            [("2026-W09", "2026-02-23", "2026-03-01"), ("2026-W08", "2026-02-16", "2026-02-22")],
        ),
        (
            "2026-01-15",
            "month",
            [("2025-12", "2025-12-01", "2025-12-31"), ("2025-11", "2025-11-01", "2025-11-30")],
        ),
        (
            "2026-03-02",
            "quarter",
            [("2025-Q4", "2025-10-01", "2025-12-31"), ("2025-Q3", "2025-07-01", "2025-09-30")],
        ),
        (
            "2026-07-01",
            "quarter",
            [("2026-Q2", "2026-04-01", "2026-06-30"), ("2026-Q1", "2026-01-01", "2026-03-31")],
        ),
        (
            "2026-03-02",
            "year",
            [("2025", "2025-01-01", "2025-12-31"), ("2024", "2024-01-01", "2024-12-31")],
        ),
    ],
)
def test_last_two_complete_periods(today: str, kind: str, expected: list[tuple[str, str, str]]):
    periods = last_two(dt.date.fromisoformat(today), kind)

    assert [(p.name, str(p.first), str(p.last)) for p in periods] == expected


def test_parameters_are_checked():
    assert turnover.check_params({}) == {
        "period": "month",
        "document_types": ["FV"],
        "customer_kind": None,
    }
    assert turnover.check_params({"period": "Quarter", "document_types": ["fv", "FK"]}) == {
        "period": "quarter",
        "document_types": ["FV", "FK"],
        "customer_kind": None,
    }
    for bad in (
        {"period": "day"},
        {"document_types": []},
        {"document_types": 7},
        {"customer_kind": "friend"},
        {"periods": "week"},
    ):
        with pytest.raises(InvalidInput) as error:
            turnover.check_params(bad)
        assert error.value.field == f"params.{next(iter(bad))}"


def test_demo_data_matches_a_direct_sum(uow: UnitOfWork):
    with freeze_time(NOW):
        demo.load(uow, tasks=300, seed=6, demo_mode=False)
    links = uow.session.scalars(
        select(TaskItem).where(TaskItem.kind == ItemKind.DOCUMENT).order_by(TaskItem.id)
    ).all()
    once: dict[tuple[str | None, str | None], TaskItem] = {}
    for item in links:
        once.setdefault((item.document_type, item.document_number), item)
    current, previous = last_two(NOW.astimezone(WARSAW).date(), "month")

    def total(period: Any) -> Decimal:
        return sum(
            (i.document_amount or Decimal(0) for i in once.values() if i.document_date in period),
            Decimal(0),
        )

    result = report(uow, None, Locale.EN)

    assert total(current) > 0
    assert result.figures[0].value == total(current)
    assert result.figures[1].value == total(previous)
    assert result.tables[0].rows[-1].values["current"] == total(current)
