"""Hand-built report results for tests of the formats and of whatever sends them.

The values cover every kind a cell can have (text with Polish letters, int, decimal, money,
percent, date, aware datetime, empty), red overdue rows, a total row, a chart and a crosstab,
so a format that drops or mistypes any of them fails a test.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hermes_groupware.models.enums import Locale, ReportKind
from reports.model import Chart, Column, Figure, ReportResult, Row, Table, tr

#: every Polish letter, small and capital: PDF, CSV and XLSX must keep them
POLISH = "ąęłńóśźżĄĘŁŃÓŚŹŻ"
GENERATED_AT = dt.datetime(2026, 11, 27, 7, 0, tzinfo=dt.UTC)  # 08:00 in Warsaw
ZONE = "Europe/Warsaw"


def task_columns(locale: Locale) -> tuple[Column, ...]:
    """The columns of the sample task table, one per value kind."""
    return (
        Column("number", tr(locale, "Numer", "Number")),
        Column("subject", tr(locale, "Temat", "Subject")),
        Column("due", tr(locale, "Termin", "Due"), "date"),
        Column("changed", tr(locale, "Zmieniono", "Changed"), "datetime"),
        Column("notes", tr(locale, "Notatki", "Notes"), "int"),
        Column("value", tr(locale, "Wartość", "Value"), "money"),
        Column("probability", tr(locale, "Prawdopodobieństwo", "Probability"), "percent"),
        Column("days", tr(locale, "Dni", "Days"), "decimal"),
    )


def task_row(index: int, *, overdue: bool = False) -> Row:
    """The ``index``-th sample task (every third one has no value: an empty cell)."""
    return Row(
        {
            "number": f"HAN/2026/{index:04d}",
            "subject": f"Zażółć gęślą jaźń {index} {POLISH}",
            "due": dt.date(2026, 11, 1) + dt.timedelta(days=index % 50),
            "changed": dt.datetime(2026, 11, 20, 22, 30, tzinfo=dt.UTC) + dt.timedelta(hours=index),
            "notes": index % 7,
            "value": None if index % 3 == 2 else Decimal("1234.5") * (index + 1),
            "probability": Decimal("12.5") * (index % 9),
            "days": Decimal(index % 11) / 4,
        },
        overdue=overdue,
    )


def sample_result(locale: Locale = Locale.PL, *, rows: int = 6) -> ReportResult:
    """A report with figures, a task table (rows 0 and 3 overdue, then a total), a small
    second table, a chart and a crosstab."""
    tasks = [task_row(index, overdue=index % 3 == 0) for index in range(rows)]
    total_value = sum(
        (row.values["value"] for row in tasks if row.values["value"] is not None), Decimal(0)
    )
    total = Row({"number": tr(locale, "Razem", "Total"), "value": total_value}, total=True)
    people = (
        Column("employee", tr(locale, "Pracownik", "Employee")),
        Column("open", tr(locale, "Otwarte", "Open"), "int"),
    )
    return ReportResult(
        kind=ReportKind.OVERDUE,
        locale=locale,
        title=tr(locale, "Zaległe i na ten tydzień", "Overdue and due this week"),
        period=tr(locale, "Tydzień 2026-11-23 – 2026-11-29", "Week 2026-11-23 – 2026-11-29"),
        generated_at=GENERATED_AT,
        time_zone=ZONE,
        figures=[
            Figure(tr(locale, "Zaległe", "Overdue"), sum(row.overdue for row in tasks)),
            Figure(tr(locale, "Wartość", "Value"), total_value, "money"),
        ],
        tables=[
            Table(tr(locale, "Zadania", "Tasks"), task_columns(locale), [*tasks, total]),
            Table(
                tr(locale, "Według pracownika", "By employee"),
                people,
                [Row({"employee": "Łukasz Żółć", "open": 3}), Row({"employee": "Anna", "open": 1})],
            ),
        ],
        chart=Chart(
            title=tr(locale, "Otwarte według pracownika", "Open by employee"),
            categories=["Łukasz Żółć", "Anna"],
            series={
                tr(locale, "Otwarte", "Open"): [3, 1],
                tr(locale, "Zaległe", "Overdue"): [2, 0],
            },
            kind="stacked",
        ),
        crosstab=Table(
            tr(locale, "Etap × miesiąc", "Stage × month"),
            (
                Column("stage", tr(locale, "Etap", "Stage")),
                Column("2026-11", "2026-11", "money"),
                Column("2026-12", "2026-12", "money"),
            ),
            [
                Row({"stage": "Oferta", "2026-11": Decimal("1000.50"), "2026-12": Decimal(200)}),
                Row({"stage": "Negocjacje", "2026-11": None, "2026-12": Decimal("300.25")}),
                Row(
                    {
                        "stage": tr(locale, "Razem", "Total"),
                        "2026-11": Decimal("1000.50"),
                        "2026-12": Decimal("500.25"),
                    },
                    total=True,
                ),
            ],
        ),
    )


def big_result(rows: int = 10_000) -> ReportResult:
    """One table of ``rows`` x 8 columns (the benchmark's saved-view export)."""
    return ReportResult(
        kind=ReportKind.VIEW,
        locale=Locale.PL,
        title="Widok: wszystkie zadania",
        period="2026-11-27",
        generated_at=GENERATED_AT,
        time_zone=ZONE,
        tables=[
            Table(
                "Zadania",
                task_columns(Locale.PL),
                [task_row(index, overdue=index % 10 == 0) for index in range(rows)],
            )
        ],
    )
