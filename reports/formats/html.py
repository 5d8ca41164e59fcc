"""The report as one HTML document: the mail body (rows cut, chart by ``cid:``) and the
standalone export (every row, chart inline), from the same template so they look alike."""

from __future__ import annotations

from reports.formats.chart import WIDTH_PX, chart_png, data_uri
from reports.formats.layout import ReportLayout, lay_out
from reports.formats.rendering import render
from reports.model import Chart, ReportResult


def html_document(layout: ReportLayout, *, chart: Chart | None, chart_src: str | None) -> str:
    """The HTML with inline styles only (mail clients drop ``<style>``); the chart is shown when
    ``chart_src`` points at its PNG."""
    return render(
        "report.html",
        report=layout,
        chart_src=chart_src if chart else None,
        chart_title=chart.title if chart else "",
        chart_width=WIDTH_PX,
    )


def html_bytes(result: ReportResult) -> bytes:
    """The standalone document: every row, the chart inside as a ``data:`` URI."""
    chart_src = data_uri(chart_png(result.chart)) if result.chart else None
    layout = lay_out(result, row_limit=None)
    return html_document(layout, chart=result.chart, chart_src=chart_src).encode("utf-8")
