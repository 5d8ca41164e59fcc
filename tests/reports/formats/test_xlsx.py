"""The workbook opened with openpyxl: typed cells, styles, frozen headers, filters, sheets."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
from openpyxl.worksheet.worksheet import Worksheet

from hermes_groupware.models.enums import Locale, ReportFormat
from reports.formats import export
from reports.model import Column, Row, Table
from tests.reports.samples import POLISH, big_result, sample_result

RED = "FFFFC7CE"


def excel_time(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    """What openpyxl reads from a date cell: Excel has no time zones, so a naive datetime."""
    return dt.datetime(year, month, day, hour, minute)  # noqa: DTZ001


def open_book(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def test_sheets_are_summary_tables_and_pivot_in_the_readers_language() -> None:
    polish = open_book(export(sample_result(Locale.PL), ReportFormat.XLSX).data)
    english = open_book(export(sample_result(Locale.EN), ReportFormat.XLSX).data)
    assert polish.sheetnames == [
        "Podsumowanie",
        "Zadania",
        "Według pracownika",
        "Tabela przestawna",
    ]
    assert english.sheetnames == ["Summary", "Tasks", "By employee", "Pivot"]


def test_cells_are_real_numbers_and_dates() -> None:
    attachment = export(sample_result(Locale.PL, rows=3), ReportFormat.XLSX)
    assert attachment.filename == "zalegle-i-na-ten-tydzien-2026-11-27.xlsx"
    sheet = open_book(attachment.data)["Zadania"]
    header = [cell.value for cell in sheet[1]]
    assert header[:3] == ["Numer", "Temat", "Termin"]
    number, subject, due, changed, notes, value, probability, days = sheet[3]
    assert subject.value == f"Zażółć gęślą jaźń 1 {POLISH}"
    assert due.value == excel_time(2026, 11, 2)
    assert due.number_format == "yyyy-mm-dd"
    assert changed.value == excel_time(2026, 11, 21, 0, 30)  # 23:30 UTC, in Warsaw
    assert changed.number_format == "yyyy-mm-dd hh:mm"
    assert (notes.value, notes.number_format) == (1, "#,##0")
    assert (value.value, value.number_format) == (2469, "#,##0.00")
    assert (probability.value, probability.number_format) == (0.125, "0.0%")
    assert (days.value, days.number_format) == (0.25, "#,##0.0#")
    assert number.data_type == "s"
    assert sheet["F4"].value is None  # no value is an empty cell, not a zero


def test_overdue_rows_are_red_and_totals_bold() -> None:
    sheet = open_book(export(sample_result(Locale.PL, rows=6), ReportFormat.XLSX).data)["Zadania"]
    fills = {row[0].row: {cell.fill.fgColor.rgb for cell in row} for row in sheet.iter_rows(2)}
    overdue_rows = {2, 5}  # tasks 0 and 3
    assert all(fills[row] == {RED} for row in overdue_rows)
    assert all(RED not in fills[row] for row in fills.keys() - overdue_rows)
    total = sheet[8]
    assert total[0].value == "Razem"
    assert all(cell.font.b for cell in total)
    assert not any(cell.font.b for cell in sheet[3])
    assert all(cell.font.b for cell in sheet[1])
    assert {cell.fill.fgColor.rgb for cell in sheet[1]} == {"FFDDEBF7"}


def test_header_is_frozen_and_filterable_without_the_totals() -> None:
    book = open_book(export(sample_result(Locale.PL, rows=6), ReportFormat.XLSX).data)
    tasks: Worksheet = book["Zadania"]
    assert tasks.freeze_panes == "A2"
    assert tasks.auto_filter.ref == "A1:H7"  # the total in row 8 stays out of sorting
    assert book["Tabela przestawna"].freeze_panes == "B2"  # row labels stay in view too
    assert tasks.column_dimensions["B"].width > tasks.column_dimensions["A"].width > 10
    assert tasks.page_setup.orientation == "landscape"


def test_summary_has_the_figures_and_a_native_chart_over_its_data() -> None:
    summary = open_book(export(sample_result(Locale.EN, rows=6), ReportFormat.XLSX).data)["Summary"]
    assert summary["A1"].value == "Overdue and due this week"
    assert summary["B3"].value == excel_time(2026, 11, 27, 8, 0)
    assert [(row[0].value, row[1].value) for row in summary.iter_rows(6, 8)] == [
        ("Figure", "Value"),
        ("Overdue", 2),
        ("Value", 14814),
    ]
    assert summary["B8"].number_format == "#,##0.00"
    assert [[cell.value for cell in row] for row in summary.iter_rows(10, 12, max_col=3)] == [
        ["Category", "Open", "Overdue"],
        ["Łukasz Żółć", 3, 2],
        ["Anna", 1, 0],
    ]
    assert len(summary._charts) == 1


def test_pivot_sheet_holds_the_crosstab() -> None:
    pivot = open_book(export(sample_result(Locale.PL), ReportFormat.XLSX).data)["Tabela przestawna"]
    assert [[cell.value for cell in row] for row in pivot.iter_rows()] == [
        ["Etap", "2026-11", "2026-12"],
        ["Oferta", 1000.5, 200],
        ["Negocjacje", None, 300.25],
        ["Razem", 1000.5, 500.25],
    ]
    assert pivot["B4"].font.b


def test_sheet_names_are_made_valid_and_unique() -> None:
    result = big_result(rows=0)
    columns = (Column("a", "A"),)
    titles = [
        "Zadania: [HAN/REK] * pilne?",
        "Bardzo długi tytuł tabeli, dłuższy niż trzydzieści jeden znaków",
        "Bardzo długi tytuł tabeli, dłuższy niż trzydzieści jeden znaków",
        "history",
        "ZADANIA  [HAN REK]   PILNE",
    ]
    result.tables = [Table(title, columns, [Row({"a": "x"})]) for title in titles]
    names = open_book(export(result, ReportFormat.XLSX).data).sheetnames
    assert names == [
        "Podsumowanie",
        "Zadania HAN REK pilne",
        "Bardzo długi tytuł tabeli, dłuż",
        "Bardzo długi tytuł tabeli, (2)",
        "history (2)",
        "ZADANIA HAN REK PILNE (2)",
    ]
    assert all(len(name) <= 31 for name in names)


def test_text_is_never_a_formula() -> None:
    result = big_result(rows=0)
    result.tables = [Table("T", (Column("a", "A"),), [Row({"a": "=1+1"})])]
    cell = open_book(export(result, ReportFormat.XLSX).data)["T"]["A2"]
    assert (cell.value, cell.data_type) == ("=1+1", "s")


def test_ten_thousand_rows_are_all_written() -> None:
    sheet = open_book(export(big_result(rows=10_000), ReportFormat.XLSX).data)["Zadania"]
    assert sheet.max_row == 10_001
    assert sheet.auto_filter.ref == "A1:H10001"
    assert sheet["A10001"].value == "HAN/2026/9999"
