"""Running a report module as a given reader, and reading its result back in tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import event

from hermes_groupware.db.session import Actor, UnitOfWork
from hermes_groupware.models.enums import Locale
from reports.model import ReportContext, ReportResult, Table
from reports.registry import ReportModule
from reports.scope import reader_context

WARSAW = ZoneInfo("Europe/Warsaw")


def run_report(
    module: ReportModule,
    uow: UnitOfWork,
    actor: Actor,
    *,
    locale: Locale = Locale.PL,
    **params: Any,
) -> ReportResult:
    """The report as ``actor`` reads it, in Warsaw time, with the parameters checked first."""
    return module.build(context(module, uow, actor, locale=locale, **params))


def context(
    module: ReportModule,
    uow: UnitOfWork,
    actor: Actor,
    *,
    locale: Locale = Locale.PL,
    **params: Any,
) -> ReportContext:
    """What :func:`run_report` builds the report from."""
    return reader_context(
        uow.acting_as(actor), locale=locale, zone=WARSAW, params=module.check_params(params)
    )


def warsaw(day: str, time: str = "00:00") -> dt.datetime:
    """A Warsaw wall-clock moment ("2026-03-11", "10:00")."""
    return dt.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=WARSAW)


def utc(day: str, time: str = "00:00") -> dt.datetime:
    """A UTC moment; also how an all-day date is stored."""
    return dt.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=dt.UTC)


def keys(table: Table) -> list[str]:
    """The column keys."""
    return [column.key for column in table.columns]


def labels(table: Table) -> list[str]:
    """The column headings."""
    return [column.label for column in table.columns]


def column(table: Table, key: str) -> list[Any]:
    """One column of the data rows (totals left out)."""
    return [row.values[key] for row in table.data_rows]


def totals(table: Table) -> dict[str, Any]:
    """The total row's values."""
    (row,) = [row for row in table.rows if row.total]
    return dict(row.values)


def everything_readable(result: ReportResult) -> str:
    """Every text a reader of any format could see, for leak checks."""
    parts: list[Any] = [result.title, result.period]
    parts += [(f.label, f.value) for f in result.figures]
    for table in [*result.tables, *([result.crosstab] if result.crosstab else [])]:
        parts += [table.title, labels(table)]
        parts += [list(row.values.values()) for row in table.rows]
    if result.chart:
        parts += [result.chart.title, result.chart.categories, list(result.chart.series)]
    return repr(parts)


@contextmanager
def counted_queries(uow: UnitOfWork) -> Iterator[list[str]]:
    """The SQL statements run inside the block (to show a report does not query per task)."""
    statements: list[str] = []
    conn = uow.session.connection()

    def record(*args: Any) -> None:
        statements.append(args[2])

    event.listen(conn, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(conn, "before_cursor_execute", record)
