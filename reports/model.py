"""What a report module produces, independent of the output format.

A report module turns a :class:`ReportContext` (who reads it, in which language and zone) into
a :class:`ReportResult`: key figures, tables, an optional chart and an optional crosstab. The
formats (HTML mail, CSV, XLSX, PDF) only lay that out; they never query the database, so every
format of one report shows the same numbers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement

from hermes_groupware.db.session import UnitOfWork
from hermes_groupware.models.enums import Locale, ReportKind

#: How a value is shown: ``money``/``decimal`` are Decimals, ``percent`` a number 0..100,
#: ``date`` a date, ``datetime`` an aware datetime (shown in the reader's zone).
ValueKind = Literal["text", "int", "decimal", "money", "percent", "date", "datetime"]


def tr(locale: Locale, pl: str, en: str) -> str:
    """The text in the reader's language (reports are short enough to keep both side by side)."""
    return pl if locale is Locale.PL else en


@dataclass(frozen=True)
class Column:
    """A table column; ``label`` is already in the reader's language."""

    key: str
    label: str
    kind: ValueKind = "text"


@dataclass(frozen=True)
class Row:
    """A table row; ``overdue`` rows are red in every format, ``total`` rows bold."""

    values: Mapping[str, Any]
    overdue: bool = False
    total: bool = False


@dataclass(frozen=True)
class Table:
    """A titled table; ``rows`` may end with total rows."""

    title: str
    columns: tuple[Column, ...]
    rows: list[Row]

    @property
    def data_rows(self) -> list[Row]:
        """The rows without totals (what "empty" and row counts are about)."""
        return [row for row in self.rows if not row.total]


@dataclass(frozen=True)
class Figure:
    """A key figure shown above the tables ("Overdue: 12")."""

    label: str
    value: Any
    kind: ValueKind = "int"


@dataclass(frozen=True)
class Chart:
    """A simple chart: one value per category and series (``stacked`` stacks the series)."""

    title: str
    categories: list[str]
    series: dict[str, list[float]]
    kind: Literal["bar", "stacked", "line"] = "bar"
    value_kind: ValueKind = "int"


@dataclass
class ReportResult:
    """One rendered-to-data report for one reader."""

    kind: ReportKind
    locale: Locale
    title: str
    #: the period or moment the numbers are about, in words ("Tydzień 2026-11-23 – 2026-11-29")
    period: str
    generated_at: dt.datetime
    time_zone: str
    figures: list[Figure] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    chart: Chart | None = None
    #: a computed crosstab (rows x columns of one measure): the XLSX "pivot" sheet
    crosstab: Table | None = None

    @property
    def is_empty(self) -> bool:
        """No data rows in any table ("skip if empty" looks at this)."""
        return not any(table.data_rows for table in self.tables)


@dataclass(frozen=True)
class ReportContext:
    """Everything a report module may use.

    ``uow.actor`` is the reader: every query is limited by ``scope``, the tasks the reader may
    see (for an outside address: what the schedule's owner may see in the registers that allow
    outside recipients). A module must add ``scope`` to every query that touches tasks.
    """

    uow: UnitOfWork
    scope: ColumnElement[bool]
    locale: Locale
    zone: ZoneInfo
    now: dt.datetime
    params: Mapping[str, Any] = field(default_factory=dict)

    def text(self, pl: str, en: str) -> str:
        """Shortcut for :func:`tr` in the reader's language."""
        return tr(self.locale, pl, en)

    def today(self) -> dt.date:
        """Today's date in the reader's zone."""
        return self.now.astimezone(self.zone).date()
