"""Reports as one HTML document: the mail body (rows cut, charts by ``cid:``, one section per
report of the schedule) and the standalone export (one report, every row, chart inline), from
the same template so they look alike."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reports.formats.chart import WIDTH_PX, chart_png, data_uri
from reports.formats.layout import ReportLayout, lay_out
from reports.formats.rendering import render
from reports.model import Chart, ReportResult


@dataclass(frozen=True)
class HtmlSection:
    """One report of a document: its texts, and where its chart's PNG is (None: no image)."""

    report: ReportLayout
    chart_src: str | None
    chart_title: str


def html_section(
    layout: ReportLayout, *, chart: Chart | None, chart_src: str | None
) -> HtmlSection:
    """The section of ``layout``; the chart is shown only when there is one and ``chart_src``
    points at its PNG."""
    return HtmlSection(
        report=layout,
        chart_src=chart_src if chart else None,
        chart_title=chart.title if chart else "",
    )


def html_document(sections: Sequence[HtmlSection]) -> str:
    """The HTML with inline styles only (mail clients drop ``<style>``); several sections get a
    list of contents at the top and a rule between them, one section reads as the report alone."""
    if not sections:
        raise ValueError("an HTML document needs at least one report")
    return render("report.html", sections=list(sections), chart_width=WIDTH_PX)


def html_bytes(result: ReportResult) -> bytes:
    """The standalone document: every row, the chart inside as a ``data:`` URI."""
    chart_src = data_uri(chart_png(result.chart)) if result.chart else None
    layout = lay_out(result, row_limit=None)
    section = html_section(layout, chart=result.chart, chart_src=chart_src)
    return html_document([section]).encode("utf-8")
