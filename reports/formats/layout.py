"""A report as the reader sees it on screen and paper: every value already a localized text.

The HTML mail, the plain-text alternative, the standalone HTML export and the PDF all lay out
this one structure, so they cannot disagree about a number. Spreadsheets (CSV, XLSX) keep raw
values and do not use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from reports.formats.labels import Labels, labels, more_rows
from reports.formatting import NUMERIC_KINDS, format_value
from reports.model import ReportResult, Row, Table


@dataclass(frozen=True)
class RowLayout:
    """One row of cell texts; ``overdue`` rows are red, ``total`` rows bold."""

    cells: tuple[str, ...]
    overdue: bool
    total: bool


@dataclass(frozen=True)
class TableLayout:
    """A table's texts; ``numeric`` marks right-aligned columns, ``unbroken`` the columns whose
    text must not wrap (numbers, dates), ``more`` the cut-off line."""

    title: str
    headers: tuple[str, ...]
    numeric: tuple[bool, ...]
    unbroken: tuple[bool, ...]
    rows: tuple[RowLayout, ...]
    more: str

    @property
    def has_overdue(self) -> bool:
        """Whether the legend for red rows is needed."""
        return any(row.overdue for row in self.rows)


@dataclass(frozen=True)
class FigureLayout:
    """A key figure's caption and text."""

    label: str
    value: str


@dataclass(frozen=True)
class ReportLayout:
    """Everything the HTML, text and print templates show."""

    locale: str
    title: str
    period: str
    generated: str
    figures: tuple[FigureLayout, ...]
    tables: tuple[TableLayout, ...]
    labels: Labels

    @property
    def has_overdue(self) -> bool:
        """Whether any table shows a red row."""
        return any(table.has_overdue for table in self.tables)

    @property
    def widest(self) -> int:
        """The most columns of any table (the print layout turns landscape for wide tables)."""
        return max((len(table.headers) for table in self.tables), default=0)


def lay_out(
    result: ReportResult, *, row_limit: int | None, in_attachment: bool = True
) -> ReportLayout:
    """The texts of ``result``; with ``row_limit`` each table keeps that many data rows (and
    its totals) and says how many more the attachment has."""
    zone = ZoneInfo(result.time_zone)
    stamp = format_value(result.generated_at, "datetime", result.locale, zone)
    return ReportLayout(
        locale=result.locale.value,
        title=result.title,
        period=result.period,
        generated=f"{stamp} ({result.time_zone})",
        figures=tuple(
            FigureLayout(figure.label, format_value(figure.value, figure.kind, result.locale, zone))
            for figure in result.figures
        ),
        tables=tuple(
            _table(table, result, zone, row_limit, in_attachment) for table in result.tables
        ),
        labels=labels(result.locale),
    )


def _table(
    table: Table,
    result: ReportResult,
    zone: ZoneInfo,
    row_limit: int | None,
    in_attachment: bool,
) -> TableLayout:
    shown, hidden = _cut(table.rows, row_limit)
    rows = tuple(
        RowLayout(
            cells=tuple(
                format_value(row.values.get(column.key), column.kind, result.locale, zone)
                for column in table.columns
            ),
            overdue=row.overdue,
            total=row.total,
        )
        for row in shown
    )
    return TableLayout(
        title=table.title,
        headers=tuple(column.label for column in table.columns),
        numeric=tuple(column.kind in NUMERIC_KINDS for column in table.columns),
        unbroken=tuple(column.kind != "text" for column in table.columns),
        rows=rows,
        more=more_rows(result.locale, hidden, in_attachment=in_attachment) if hidden else "",
    )


def _cut(rows: list[Row], limit: int | None) -> tuple[list[Row], int]:
    """The first ``limit`` data rows plus every total row, and how many data rows were left out."""
    if limit is None:
        return rows, 0
    shown: list[Row] = []
    data_rows = 0
    for row in rows:
        if row.total or data_rows < limit:
            shown.append(row)
            data_rows += not row.total
    return shown, sum(not row.total for row in rows) - data_rows
