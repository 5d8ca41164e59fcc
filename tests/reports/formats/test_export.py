"""What every exported file has in common: its name and type."""

from __future__ import annotations

import datetime as dt

import pytest

from hermes_groupware.models.enums import Locale, ReportFormat
from reports.formats import attachment_name, export
from tests.reports.samples import sample_result


@pytest.mark.parametrize(
    ("title", "name"),
    [
        ("Zaległe i na ten tydzień", "zalegle-i-na-ten-tydzien"),
        ("ŁÓDŹ: Źródła Żółwi — Śląsk / Ćma", "lodz-zrodla-zolwi-slask-cma"),
        ("Pipeline (Q4) — Müller & Søn", "pipeline-q4-muller-sn"),
        ("../../etc/passwd", "etc-passwd"),
        ("???", "report"),
        ("x" * 100, "x" * 60),
    ],
)
def test_file_names_are_ascii_slugs_with_the_local_date(title: str, name: str) -> None:
    result = sample_result(Locale.PL)
    result.title = title
    assert attachment_name(result, "pdf") == f"{name}-2026-11-27.pdf"


def test_the_date_is_the_readers_local_day() -> None:
    result = sample_result(Locale.EN)
    result.generated_at = dt.datetime(2026, 11, 27, 23, 30, tzinfo=dt.UTC)
    assert attachment_name(result, "csv") == "overdue-and-due-this-week-2026-11-28.csv"
    result.time_zone = "America/New_York"
    assert attachment_name(result, "csv") == "overdue-and-due-this-week-2026-11-27.csv"


@pytest.mark.parametrize(
    ("fmt", "content_type", "magic"),
    [
        (ReportFormat.CSV, "text/csv", b"\xef\xbb\xbf"),
        (
            ReportFormat.XLSX,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            b"PK",
        ),
        (ReportFormat.PDF, "application/pdf", b"%PDF-"),
        (ReportFormat.HTML, "text/html", b"<!DOCTYPE html>"),
    ],
)
def test_every_format_exports_with_its_type(
    fmt: ReportFormat, content_type: str, magic: bytes
) -> None:
    attachment = export(sample_result(Locale.PL), fmt)
    assert attachment.content_type == content_type
    assert attachment.filename.endswith(f".{fmt.value}")
    assert attachment.data.startswith(magic)
