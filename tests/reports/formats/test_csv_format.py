"""The CSV file read back with the csv module, as Excel and scripts would."""

from __future__ import annotations

import csv
import io

from hermes_groupware.models.enums import Locale, ReportFormat
from reports.formats import export
from reports.model import Column, Row, Table
from tests.reports.samples import POLISH, big_result, sample_result


def read(data: bytes, delimiter: str) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "Excel needs the BOM to read UTF-8"
    return list(csv.reader(io.StringIO(data[3:].decode("utf-8"), newline=""), delimiter=delimiter))


def test_polish_csv_has_semicolons_decimal_commas_and_raw_values() -> None:
    attachment = export(sample_result(Locale.PL, rows=3), ReportFormat.CSV)
    assert attachment.filename == "zalegle-i-na-ten-tydzien-2026-11-27.csv"
    assert attachment.content_type == "text/csv"
    lines = read(attachment.data, ";")
    assert lines[0] == ["Zadania"]
    assert lines[1] == [
        "Numer", "Temat", "Termin", "Zmieniono", "Notatki", "Wartość", "Prawdopodobieństwo", "Dni",
    ]  # fmt: skip
    assert lines[2] == [
        "HAN/2026/0000",
        f"Zażółć gęślą jaźń 0 {POLISH}",
        "2026-11-01",
        "2026-11-20 23:30:00",  # 22:30 UTC in Warsaw
        "0",
        "1234,5",  # raw: no thousands separator, the reader's decimal mark
        "0,0",
        "0",
    ]
    assert lines[4][5] == ""  # no value
    assert lines[4][6] == "25,0"
    assert lines[5] == ["Razem", "", "", "", "", "3703,5", "", ""]


def test_english_csv_has_commas_and_decimal_points() -> None:
    lines = read(export(sample_result(Locale.EN, rows=3), ReportFormat.CSV).data, ",")
    assert lines[1][0] == "Number"
    assert lines[3][5:] == ["2469.0", "12.5", "0.25"]


def test_several_tables_are_sections_with_a_title_and_a_blank_line_between() -> None:
    lines = read(export(sample_result(Locale.PL, rows=2), ReportFormat.CSV).data, ";")
    # title, header, 2 rows, total, blank, title, header, 2 rows
    assert [line[:1] for line in lines] == [
        ["Zadania"], ["Numer"], ["HAN/2026/0000"], ["HAN/2026/0001"], ["Razem"],
        [],
        ["Według pracownika"], ["Pracownik"], ["Łukasz Żółć"], ["Anna"],
    ]  # fmt: skip
    assert lines[7:] == [["Pracownik", "Otwarte"], ["Łukasz Żółć", "3"], ["Anna", "1"]]


def test_one_table_is_a_plain_csv_with_the_header_first() -> None:
    lines = read(export(big_result(rows=25), ReportFormat.CSV).data, ";")
    assert lines[0][0] == "Numer"
    assert len(lines) == 26


def test_a_subject_cannot_become_an_excel_formula() -> None:
    result = big_result(rows=0)
    columns = (Column("subject", "Temat"), Column("delta", "Zmiana", "int"))
    rows = [
        Row({"subject": '=HYPERLINK("http://evil","x")', "delta": -3}),
        Row({"subject": "@SUM(A1)", "delta": 0}),
        Row({"subject": "Zwykły temat - z myślnikiem", "delta": 1}),
    ]
    result.tables = [Table("Zadania", columns, rows)]
    lines = read(export(result, ReportFormat.CSV).data, ";")
    assert lines[1:] == [
        ['\'=HYPERLINK("http://evil","x")', "-3"],  # negative numbers stay numbers
        ["'@SUM(A1)", "0"],
        ["Zwykły temat - z myślnikiem", "1"],
    ]
