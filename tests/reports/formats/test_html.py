"""The mail body (HTML and text, one report or several) and the standalone HTML export,
parsed back."""

from __future__ import annotations

import re
from decimal import Decimal
from html.parser import HTMLParser

import pytest

from hermes_groupware.models.enums import Locale, ReportFormat, ReportKind
from reports.formats import export, mail_body
from reports.model import Chart, Column, Figure, ReportResult, Row, Table, tr
from tests.reports.samples import GENERATED_AT, POLISH, ZONE, big_result, sample_result

PNG = b"\x89PNG\r\n\x1a\n"


class Page(HTMLParser):
    """What a mail client would use: tags seen, images, and each table row's cells."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.images: list[str] = []
        self.rows: list[list[tuple[str, str]]] = []  # (style, text) per cell
        self.texts: list[str] = []
        self._cell: list[str] | None = None
        self._style = ""
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        attributes = dict(attrs)
        if tag == "img":
            self.images.append(attributes["src"] or "")
        if tag == "tr":
            self.rows.append([])
        if tag in ("td", "th"):
            self._cell, self._style = [], attributes.get("style") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append((self._style, "".join(self._cell)))
            self._cell = None

    def handle_data(self, data: str) -> None:
        self.texts.append(data)
        if self._cell is not None:
            self._cell.append(data)

    def row(self, first_cell: str) -> list[tuple[str, str]]:
        return next(row for row in self.rows if row and row[0][1] == first_cell)


def test_the_mail_body_cuts_each_table_and_says_how_many_rows_the_attachment_has() -> None:
    body = mail_body([sample_result(Locale.PL, rows=8)], body_rows=3, chart_cids=["chart@x"])
    page = Page(body.html)
    numbers = [row[0][1] for row in page.rows if row and row[0][1].startswith("HAN/")]
    assert numbers == ["HAN/2026/0000", "HAN/2026/0001", "HAN/2026/0002"]
    assert page.row("Razem")  # the total survives the cut
    assert "… i jeszcze 5 wierszy w załączniku" in page.texts
    assert "… i jeszcze" not in body.html.split("Według pracownika")[1]  # 2 rows fit
    assert POLISH in body.html


def test_mail_styles_are_inline_and_overdue_rows_red() -> None:
    page = Page(mail_body([sample_result(Locale.EN, rows=4)], body_rows=10, chart_cids=[None]).html)
    assert "style" not in page.tags  # mail clients drop <style>
    assert "link" not in page.tags
    red = "color:#C62828"
    overdue, on_time = page.row("HAN/2026/0003"), page.row("HAN/2026/0001")
    assert all(red in style for style, _text in overdue)
    assert not any(red in style for style, _text in on_time)
    total = page.row("Total")
    assert all("font-weight:bold" in style for style, _text in total)
    value_style, value = on_time[5]
    assert (value, "text-align:right" in value_style) == ("2,469.00", True)
    assert "In red: overdue" in page.texts


def test_the_chart_is_referenced_by_cid_and_returned_as_png() -> None:
    body = mail_body([sample_result(Locale.PL)], body_rows=5, chart_cids=["chart.1@hermes"])
    assert Page(body.html).images == ["cid:chart.1@hermes"]
    [png] = body.charts
    assert png is not None
    assert png.startswith(PNG)


def test_without_a_cid_or_a_chart_there_is_no_image() -> None:
    no_cid = mail_body([sample_result(Locale.PL)], body_rows=5, chart_cids=[None])
    assert (Page(no_cid.html).images, no_cid.charts) == ([], [None])
    result = sample_result(Locale.PL)
    result.chart = None
    no_chart = mail_body([result], body_rows=5, chart_cids=["chart@x"])
    assert (Page(no_chart.html).images, no_chart.charts) == ([], [None])


def test_report_data_is_escaped() -> None:
    result = big_result(rows=0)
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    result.title = evil
    result.tables = [Table(evil, (Column("a", evil),), [Row({"a": evil})])]
    body = mail_body([result], body_rows=5, chart_cids=[None])
    page = Page(body.html)
    assert "script" not in page.tags
    assert page.images == []
    assert evil in page.texts
    assert evil in body.text  # plain text is not HTML: nothing to escape


def test_the_text_alternative_aligns_columns_and_marks_overdue_rows() -> None:
    text = mail_body([sample_result(Locale.EN, rows=4)], body_rows=3, chart_cids=[None]).text
    lines = text.splitlines()
    assert lines[:3] == [
        "Overdue and due this week",
        "Week 2026-11-23 – 2026-11-29",
        "Generated 2026-11-27 08:00 (Europe/Warsaw)",
    ]
    assert "Overdue: 2" in lines
    assert "Value: 8,641.50" in lines
    task_lines = [line for line in lines if "HAN/2026/" in line]
    assert [line[:2] for line in task_lines] == ["! ", "  ", "  "]
    header = next(line for line in lines if "Number" in line)
    value_end = header.index("Value") + len("Value")
    width = len("1,234.50")
    values = [line[value_end - width : value_end] for line in task_lines]
    assert values == ["1,234.50", "2,469.00", " " * width]  # right-aligned under "Value"
    assert "… and 1 more row in the attachment" in lines
    assert "! – overdue" in lines


def test_without_attachments_the_cut_line_does_not_promise_one() -> None:
    body = mail_body(
        [sample_result(Locale.PL, rows=8)], body_rows=3, chart_cids=[None], in_attachment=False
    )
    assert "… i jeszcze 5 wierszy" in body.text.splitlines()
    assert "załącznik" not in body.html + body.text


def test_an_empty_table_says_so() -> None:
    result = big_result(rows=0)
    body = mail_body([result], body_rows=5, chart_cids=[None])
    assert "Brak danych" in Page(body.html).texts
    assert "Brak danych" in body.text.splitlines()


def test_the_html_export_is_a_standalone_document_with_every_row_and_the_chart_inline() -> None:
    attachment = export(sample_result(Locale.PL, rows=40), ReportFormat.HTML)
    assert attachment.filename == "zalegle-i-na-ten-tydzien-2026-11-27.html"
    assert attachment.content_type == "text/html"
    page = Page(attachment.data.decode("utf-8"))
    assert len([row for row in page.rows if row and row[0][1].startswith("HAN/")]) == 40
    assert not any(text.startswith("… i jeszcze") for text in page.texts)
    [image] = page.images
    assert image.startswith("data:image/png;base64,")


# --- several reports in one mail ----------------------------------------------------------------


def _forecast(locale: Locale, *, chart: bool = True) -> ReportResult:
    """A second, small report (no overdue rows) to put next to the sample one."""
    return ReportResult(
        kind=ReportKind.PIPELINE,
        locale=locale,
        title=tr(locale, "Prognoza sprzedaży", "Sales pipeline forecast"),
        period=tr(locale, "Stan na 2026-11-27", "As of 2026-11-27"),
        generated_at=GENERATED_AT,
        time_zone=ZONE,
        figures=[Figure(tr(locale, "Otwarte szanse", "Open opportunities"), 3)],
        tables=[
            Table(
                tr(locale, "Według etapu", "By stage"),
                (Column("stage", tr(locale, "Etap", "Stage")), Column("value", "PLN", "money")),
                [
                    Row({"stage": f"Etap {n} {POLISH}", "value": Decimal(100 * n)})
                    for n in (1, 2, 3)
                ],
            )
        ],
        chart=Chart("Lejek", ["Etap 1", "Etap 2"], {"PLN": [100, 200]}) if chart else None,
    )


def _headings(html: str) -> list[tuple[str, str]]:
    """(id, text) of every ``h1``: the sections, in order."""
    return re.findall(r'<h1(?: id="([^"]*)")?[^>]*>([^<]*)</h1>', html)


def test_two_reports_are_two_sections_in_order_under_a_list_of_contents() -> None:
    body = mail_body(
        [sample_result(Locale.PL, rows=4), _forecast(Locale.PL)],
        body_rows=10,
        chart_cids=["a@x", "b@x"],
    )

    assert _headings(body.html) == [
        ("report-1", "Zaległe i na ten tydzień"),
        ("report-2", "Prognoza sprzedaży"),
    ]
    contents = body.html.split("<h1")[0]
    assert "W tym e-mailu" in contents
    assert contents.index('href="#report-1"') < contents.index('href="#report-2"')
    assert "Prognoza sprzedaży" in contents
    overdue, forecast = body.html.split('id="report-2"')
    assert "HAN/2026/0003" in overdue and "HAN/2026/0003" not in forecast
    assert f"Etap 2 {POLISH}" in forecast and f"Etap 2 {POLISH}" not in overdue
    assert "Na czerwono: po terminie" in overdue  # each section explains its own red rows
    assert "Na czerwono: po terminie" not in forecast
    assert body.html.count("<html") == body.html.count("<body") == 1


def test_each_report_shows_its_own_chart_by_its_own_cid() -> None:
    body = mail_body(
        [sample_result(Locale.EN), _forecast(Locale.EN, chart=False), _forecast(Locale.EN)],
        body_rows=5,
        chart_cids=["one@x", "two@x", "three@x"],
    )

    assert Page(body.html).images == ["cid:one@x", "cid:three@x"]
    first, missing, third = body.charts
    assert missing is None
    assert first is not None and third is not None
    assert first.startswith(PNG) and third.startswith(PNG)
    assert first != third  # each report's own chart
    assert body.html.index("cid:three@x") > body.html.index('id="report-3"')


def test_the_text_lists_the_reports_then_gives_each_a_section_in_order() -> None:
    text = mail_body(
        [sample_result(Locale.EN, rows=4), _forecast(Locale.EN)],
        body_rows=3,
        chart_cids=[None, None],
    ).text
    lines = text.splitlines()

    assert lines[:3] == [
        "In this e-mail:",
        "1. Overdue and due this week (Week 2026-11-23 – 2026-11-29)",
        "2. Sales pipeline forecast (As of 2026-11-27)",
    ]
    titles = [lines.index("Overdue and due this week"), lines.index("Sales pipeline forecast")]
    assert titles[0] < titles[1]
    assert lines[titles[0] - 1] == lines[titles[1] - 1] == "=" * 60
    second = "\n".join(lines[titles[1] :])
    assert "Open opportunities: 3" in second
    assert "HAN/2026/" not in second
    assert "… and 1 more row in the attachment" in lines[: titles[1]]


def test_the_cut_line_promises_an_attachment_only_for_the_reports_that_have_one() -> None:
    body = mail_body(
        [sample_result(Locale.PL, rows=8), _forecast(Locale.PL)],
        body_rows=1,
        chart_cids=[None, None],
        in_attachment=[False, True],
    )

    overdue, forecast = body.text.split("Prognoza sprzedaży\nStan na")
    assert "… i jeszcze 7 wierszy\n" in overdue
    assert "załącznik" not in overdue
    assert "… i jeszcze 2 wiersze w załączniku" in forecast


def test_one_report_has_no_list_of_contents_and_no_section_ids() -> None:
    body = mail_body([sample_result(Locale.PL)], body_rows=5, chart_cids=[None])
    exported = export(sample_result(Locale.PL), ReportFormat.HTML).data.decode("utf-8")

    for html in (body.html, exported):
        assert _headings(html) == [("", "Zaległe i na ten tydzień")]
        assert "W tym e-mailu" not in html
        assert "<hr" not in html
    assert body.text.startswith("Zaległe i na ten tydzień\n")
    assert "=" * 60 not in body.text


def test_a_mail_body_needs_a_report_and_a_cid_entry_per_report() -> None:
    with pytest.raises(ValueError, match="at least one"):
        mail_body([], body_rows=5, chart_cids=[])
    with pytest.raises(ValueError, match="one entry per report"):
        mail_body([sample_result(), _forecast(Locale.PL)], body_rows=5, chart_cids=[None])
    with pytest.raises(ValueError, match="one entry per report"):
        mail_body([sample_result()], body_rows=5, chart_cids=[None], in_attachment=[True, True])
