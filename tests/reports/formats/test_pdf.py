"""The PDF read back with pypdf: text, Polish letters, pages, embedded fonts, red rows."""

from __future__ import annotations

import io
import re
from typing import Any

import pypdf
import pytest

from hermes_groupware.models.enums import Locale, ReportFormat
from reports.formats import export
from reports.formats.pdf import FONTS, LISTING_FROM, _OwnResourcesOnly
from reports.model import Column, Row, Table
from tests.reports.samples import POLISH, big_result, sample_result

#: the overdue red (#C62828) as a PDF fill colour operator
RED_TEXT = re.compile(r"0\.776\d* 0\.156\d* 0\.156\d* rg")


def read(data: bytes) -> pypdf.PdfReader:
    assert data.startswith(b"%PDF-")
    return pypdf.PdfReader(io.BytesIO(data))


def text_of(reader: pypdf.PdfReader) -> list[str]:
    """Each page's text, no-break spaces read as spaces."""
    return [page.extract_text().replace("\u00a0", " ") for page in reader.pages]


def drawing(page: pypdf.PageObject) -> str:
    contents = page.get_contents()
    assert contents is not None
    return contents.get_data().decode("latin-1")


def test_polish_letters_survive_and_every_page_is_numbered() -> None:
    attachment = export(sample_result(Locale.PL, rows=60), ReportFormat.PDF)
    assert attachment.filename == "zalegle-i-na-ten-tydzien-2026-11-27.pdf"
    assert attachment.content_type == "application/pdf"
    reader = read(attachment.data)
    pages = text_of(reader)
    assert len(pages) >= 2
    assert POLISH in pages[0]
    assert "Zażółć gęślą jaźń 59" in "".join(pages)
    for number, text in enumerate(pages, start=1):
        assert f"Strona {number} z {len(pages)}" in text
        assert "Zaległe i na ten tydzień" in text  # the page header
        assert "Tydzień 2026-11-23 – 2026-11-29" in text
    assert "72 835,50" in "".join(pages)  # task 58: 59 x 1 234,50
    assert reader.metadata is not None
    assert reader.metadata.title == "Zaległe i na ten tydzień"


def test_english_pages_are_numbered_in_english() -> None:
    pages = text_of(read(export(sample_result(Locale.EN, rows=3), ReportFormat.PDF).data))
    assert f"Page 1 of {len(pages)}" in pages[0]
    assert "Generated 2026-11-27 08:00 (Europe/Warsaw)" in pages[0]
    assert "In red: overdue" in pages[-1]


def test_the_fonts_are_embedded() -> None:
    reader = read(export(sample_result(Locale.PL, rows=3), ReportFormat.PDF).data)
    fonts: list[Any] = []
    for page in reader.pages:
        resources: Any = page["/Resources"]
        fonts += [font.get_object() for font in resources["/Font"].values()]
    assert fonts
    for font in fonts:
        descendant = font["/DescendantFonts"][0].get_object()
        assert "/FontFile2" in descendant["/FontDescriptor"], font["/BaseFont"]
        assert "Report-Sans" in font["/BaseFont"]


def test_overdue_rows_are_red_and_only_they() -> None:
    with_overdue = read(export(sample_result(Locale.PL, rows=3), ReportFormat.PDF).data)
    assert RED_TEXT.search(drawing(with_overdue.pages[0]))
    calm = sample_result(Locale.PL, rows=3)
    calm.tables = [Table(table.title, table.columns, [Row(row.values) for row in table.rows])
                   for table in calm.tables]  # fmt: skip
    assert not any(
        RED_TEXT.search(drawing(page)) for page in read(export(calm, ReportFormat.PDF).data).pages
    )


def test_wide_tables_turn_the_page_to_landscape() -> None:
    wide = read(export(sample_result(Locale.PL, rows=3), ReportFormat.PDF).data).pages[0]
    narrow_result = big_result(rows=0)
    narrow_result.tables = [
        Table("T", (Column("a", "A"), Column("b", "B", "int")), [Row({"a": "x", "b": 1})])
    ]
    narrow = read(export(narrow_result, ReportFormat.PDF).data).pages[0]
    assert wide.mediabox.width > wide.mediabox.height
    assert narrow.mediabox.width < narrow.mediabox.height
    assert round(float(narrow.mediabox.width) / 72 * 25.4) == 210  # A4


def test_the_chart_is_embedded_as_an_image() -> None:
    with_chart = read(export(sample_result(Locale.PL, rows=3), ReportFormat.PDF).data)
    assert [image.name for image in with_chart.pages[0].images]
    plain = sample_result(Locale.PL, rows=3)
    plain.chart = None
    assert not read(export(plain, ReportFormat.PDF).data).pages[0].images


def test_a_long_table_prints_as_a_listing_with_its_header_on_every_page() -> None:
    rows = LISTING_FROM + 100
    pages = text_of(read(export(big_result(rows=rows), ReportFormat.PDF).data))
    assert len(pages) > 5
    listing = [text for text in pages if "HAN/2026/" in text]
    assert len(listing) > 5
    assert all("Numer" in text and "Prawdopodobieństwo" in text for text in listing)
    everything = "\n".join(pages)
    assert f"HAN/2026/{rows - 1:04d}" in everything
    assert "! HAN/2026/0010" in everything  # overdue rows are marked for b/w printers
    assert POLISH in everything


def test_a_short_table_prints_as_a_table() -> None:
    text = "\n".join(text_of(read(export(big_result(rows=LISTING_FROM), ReportFormat.PDF).data)))
    assert "HAN/2026/0010" in text
    assert "! HAN/2026/0010" not in text


def test_markup_in_report_data_is_text_in_the_pdf() -> None:
    result = big_result(rows=0)
    result.tables = [
        Table("T", (Column("a", "A"),), [Row({"a": '<img src="file:///etc/hostname"> & <b>x</b>'})])
    ]
    text = text_of(read(export(result, ReportFormat.PDF).data))[0]
    assert '<img src="file:///etc/hostname"> & <b>x</b>' in text


def test_weasyprint_may_read_only_the_fonts_and_data_uris() -> None:
    fetcher = _OwnResourcesOnly()
    assert fetcher.fetch(FONTS["regular"]).status in (None, 200)
    assert fetcher.fetch("data:text/plain;base64,eA==").status in (None, 200)
    for url in ("file:///etc/hostname", "http://127.0.0.1:9/x.png", FONTS["regular"] + "/../x"):
        with pytest.raises(ValueError, match="no outside resource"):
            fetcher.fetch(url)
