"""The report as an Excel workbook (XlsxWriter).

Sheets: a summary (title, period, key figures, the chart as a native Excel chart over its data),
one sheet per table, and the crosstab ("Tabela przestawna"/"Pivot"), which stands in for a
pivot table. Cells are real numbers and dates: money with two decimals, percent as a percent
cell, dates as Excel dates, datetimes in the reader's zone (Excel has no zones). Headers are
bold on a fill, frozen and filterable; overdue rows are red, total rows bold. Written in
constant-memory mode, row by row, so a 10,000-row view does not hold every cell twice.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any
from zoneinfo import ZoneInfo

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from reports.formats.labels import labels
from reports.formatting import NUMERIC_KINDS, format_value, is_number, local_datetime
from reports.model import Chart, Column, ReportResult, Table, ValueKind

_NUMBER_FORMATS: dict[str, str] = {
    "int": "#,##0",
    "decimal": "#,##0.0#",
    "money": "#,##0.00",
    "percent": "0.0%",
    "date": "yyyy-mm-dd",
    "datetime": "yyyy-mm-dd hh:mm",
}
_OVERDUE = {"bg_color": "#FFC7CE", "font_color": "#9C0006"}
_TOTAL = {"bold": True, "top": 1}
_HEADER = {"bold": True, "bg_color": "#DDEBF7", "bottom": 2, "bottom_color": "#9BB7D4"}
_CHART_TYPES = {
    "bar": {"type": "column"},
    "stacked": {"type": "column", "subtype": "stacked"},
    "line": {"type": "line"},
}
#: rows looked at to size a column, and the widths allowed (in characters)
_SIZING_ROWS = 1000
_NARROWEST, _WIDEST = 6, 60
_LANDSCAPE_FROM = 7


def xlsx_bytes(result: ReportResult) -> bytes:
    """The workbook's bytes."""
    output = io.BytesIO()
    workbook = xlsxwriter.Workbook(output, {"constant_memory": True})
    workbook.set_properties({"title": result.title, "subject": result.period})
    book = _Book(workbook, result)
    book.summary()
    for table in result.tables:
        book.table(table, book.sheet(table.title), frozen_columns=0)
    if result.crosstab is not None:
        book.table(result.crosstab, book.sheet(book.labels.pivot), frozen_columns=1)
    workbook.close()
    return output.getvalue()


class _Book:
    """One workbook being written: its formats, sheet names and the reader's settings."""

    def __init__(self, workbook: Workbook, result: ReportResult) -> None:
        self.workbook = workbook
        self.result = result
        self.zone = ZoneInfo(result.time_zone)
        self.labels = labels(result.locale)
        self.header = workbook.add_format(_HEADER)
        self._formats: dict[tuple[str, bool, bool], Format] = {}
        self._names = _SheetNames()

    def sheet(self, title: str) -> Worksheet:
        """A new sheet named after ``title`` (cut and made unique as Excel requires)."""
        return self.workbook.add_worksheet(self._names.unique(title))

    def summary(self) -> None:
        """Title, period, when and where generated, key figures, and the chart."""
        result, caption = self.result, self.labels
        sheet = self.sheet(caption.summary)
        figures = result.figures
        sheet.set_column(0, 0, _width([caption.figure, *(figure.label for figure in figures)]))
        sheet.set_column(1, 1, 20)
        sheet.write_string(0, 0, result.title, self.workbook.add_format({"bold": True, "size": 14}))
        sheet.write_string(1, 0, result.period)
        sheet.write_string(2, 0, caption.generated)
        self.cell(sheet, 2, 1, result.generated_at, kind="datetime")
        sheet.write_string(3, 0, caption.time_zone)
        sheet.write_string(3, 1, result.time_zone)
        sheet.write_row(5, 0, [caption.figure, caption.value], self.header)
        for index, figure in enumerate(figures, start=6):
            sheet.write_string(index, 0, figure.label)
            self.cell(sheet, index, 1, figure.value, kind=figure.kind)
        if result.chart is not None:
            self._chart(sheet, result.chart, first_row=7 + len(figures))

    def _chart(self, sheet: Worksheet, chart: Chart, first_row: int) -> None:
        """The chart's data under the figures and a native chart over it, right of them."""
        sheet.write_row(first_row, 0, [self.labels.category, *chart.series], self.header)
        for offset, category in enumerate(chart.categories, start=1):
            sheet.write_string(first_row + offset, 0, category)
            for column, values in enumerate(chart.series.values(), start=1):
                value = values[offset - 1]
                self.cell(sheet, first_row + offset, column, value, kind=chart.value_kind)
        native = self.workbook.add_chart(_CHART_TYPES[chart.kind])
        last_row = first_row + len(chart.categories)
        for column, _name in enumerate(chart.series, start=1):
            native.add_series(
                {
                    "name": [sheet.name, first_row, column],
                    "categories": [sheet.name, first_row + 1, 0, last_row, 0],
                    "values": [sheet.name, first_row + 1, column, last_row, column],
                }
            )
        native.set_title({"name": chart.title})
        if len(chart.series) < 2:
            native.set_legend({"none": True})
        sheet.insert_chart(0, 3, native, {"x_scale": 1.4, "y_scale": 1.2})

    def table(self, table: Table, sheet: Worksheet, *, frozen_columns: int) -> None:
        """Header, rows and totals; frozen header, autofilter over the data rows, print setup."""
        columns = table.columns
        for index, column in enumerate(columns):
            sheet.set_column(index, index, self._column_width(table, column))
        sheet.freeze_panes(1, frozen_columns)
        last_data_row = max(
            (number for number, row in enumerate(table.rows, start=1) if not row.total), default=0
        )
        if columns:
            sheet.autofilter(0, 0, last_data_row, len(columns) - 1)
        self._print_setup(sheet, table)
        sheet.write_row(0, 0, [column.label for column in columns], self.header)
        for number, row in enumerate(table.rows, start=1):
            style = (row.overdue, row.total)
            for index, column in enumerate(columns):
                value = row.values.get(column.key)
                self.cell(sheet, number, index, value, kind=column.kind, style=style)

    def cell(
        self,
        sheet: Worksheet,
        row: int,
        column: int,
        value: Any,
        *,
        kind: ValueKind,
        style: tuple[bool, bool] = (False, False),
    ) -> None:
        """One typed cell: numbers as numbers, dates as dates, the rest as text (never as a
        formula, whatever it starts with)."""
        written = _cell_kind(value, kind)
        fmt = self._format(written, style)
        if value is None:
            sheet.write_blank(row, column, None, fmt)
        elif written == "datetime":
            sheet.write_datetime(
                row, column, local_datetime(value, self.zone).replace(tzinfo=None), fmt
            )
        elif written == "date":
            day = (
                local_datetime(value, self.zone).date() if isinstance(value, dt.datetime) else value
            )
            sheet.write_datetime(row, column, day, fmt)
        elif written == "text":
            sheet.write_string(row, column, str(value), fmt)
        else:
            number = float(value)
            sheet.write_number(row, column, number / 100 if written == "percent" else number, fmt)

    def _format(self, kind: str, style: tuple[bool, bool]) -> Format:
        """One shared format per kind and row style (Excel limits the number of formats)."""
        key = (kind, *style)
        if key not in self._formats:
            overdue, total = style
            properties: dict[str, Any] = {}
            if kind in _NUMBER_FORMATS:
                properties["num_format"] = _NUMBER_FORMATS[kind]
            if overdue:
                properties |= _OVERDUE
            if total:
                properties |= _TOTAL
            self._formats[key] = self.workbook.add_format(properties)
        return self._formats[key]

    def _column_width(self, table: Table, column: Column) -> float:
        texts = [
            format_value(row.values.get(column.key), column.kind, self.result.locale, self.zone)
            for row in table.rows[:_SIZING_ROWS]
        ]
        return max(_width(texts), len(column.label) * 1.1 + 3)

    def _print_setup(self, sheet: Worksheet, table: Table) -> None:
        """Printed: one page wide, header row on every page, title and period on top."""
        if len(table.columns) >= _LANDSCAPE_FROM:
            sheet.set_landscape()
        sheet.fit_to_pages(1, 0)
        sheet.repeat_rows(0)
        title = _header_text(table.title)
        sheet.set_header(f"&L{title}&R{_header_text(self.result.period)}")


def _cell_kind(value: Any, kind: ValueKind) -> str:
    """How the cell is written: the column's kind, unless the value is of another type."""
    if isinstance(value, dt.datetime):
        return "date" if kind == "date" else "datetime"
    if isinstance(value, dt.date):
        return "date"
    if is_number(value):
        return kind if kind in NUMERIC_KINDS else "general"  # e.g. an id in a text column
    return "text"


def _width(texts: list[str]) -> float:
    longest = max((len(text) for text in texts), default=0)
    return float(min(max(longest + 2, _NARROWEST), _WIDEST))


def _header_text(text: str) -> str:
    """Text for a printed page header: ``&`` starts a control code there, and 255 is the limit."""
    return text[:100].replace("&", "&&")


class _SheetNames:
    """Excel's sheet names: at most 31 characters, none of ``[]:*?/\\``, not starting or ending
    with an apostrophe, unique regardless of case, and never "History" (reserved)."""

    _LONGEST = 31
    _FORBIDDEN = re.compile(r"[\[\]:*?/\\]")

    def __init__(self) -> None:
        self._taken = {"history"}

    def unique(self, wanted: str) -> str:
        base = " ".join(self._FORBIDDEN.sub(" ", wanted).split()).strip("'") or "Sheet"
        name, number = base[: self._LONGEST].rstrip(), 1
        while name.casefold() in self._taken:
            number += 1
            suffix = f" ({number})"
            name = base[: self._LONGEST - len(suffix)].rstrip() + suffix
        self._taken.add(name.casefold())
        return name
