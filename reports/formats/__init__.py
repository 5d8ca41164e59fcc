"""The output formats of a report: the HTML mail body with its text alternative, and the files
(CSV, XLSX, PDF, standalone HTML). They lay out a :class:`reports.model.ReportResult` and never
touch the database.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from hermes_groupware.models.enums import ReportFormat
from reports.formats.chart import chart_png
from reports.formats.csv_format import csv_bytes
from reports.formats.html import html_bytes, html_document, html_section
from reports.formats.layout import lay_out
from reports.formats.pdf import pdf_bytes
from reports.formats.text import plain_text
from reports.formats.xlsx import xlsx_bytes
from reports.formatting import local_datetime
from reports.model import ReportResult

__all__ = ["Attachment", "MailBody", "attachment_name", "chart_png", "export", "mail_body"]

_CONTENT_TYPES = {
    ReportFormat.CSV: "text/csv",
    ReportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ReportFormat.PDF: "application/pdf",
    ReportFormat.HTML: "text/html",
}


@dataclass(frozen=True)
class Attachment:
    """A report file; ``content_type`` is a bare ``type/subtype`` (text is always UTF-8)."""

    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class MailBody:
    """The mail's HTML and text alternative, and per report the PNG its section shows by
    ``cid:`` (None: no chart, or no cid for it)."""

    html: str
    text: str
    charts: list[bytes | None]


def mail_body(
    results: Sequence[ReportResult],
    *,
    body_rows: int,
    chart_cids: Sequence[str | None],
    in_attachment: bool | Sequence[bool] = True,
) -> MailBody:
    """One mail body for the reports of a schedule, a section each in the given order (a list
    of contents on top when there are several): each table cut to ``body_rows`` data rows
    (totals kept) with a line saying how many more rows ``in_attachment`` has (``False`` when
    no file is attached; one flag per report when only some reports' files made it).

    ``chart_cids[i]`` is the Content-ID of report ``i``'s chart; the chart is drawn only when
    the report has one and a cid was given for it.
    """
    if not results:
        raise ValueError("a mail body needs at least one report")
    attached = (
        [in_attachment] * len(results) if isinstance(in_attachment, bool) else list(in_attachment)
    )
    if not len(chart_cids) == len(attached) == len(results):
        raise ValueError("chart_cids and in_attachment need one entry per report")
    layouts, sections, charts = [], [], []
    for result, cid, in_files in zip(results, chart_cids, attached, strict=True):
        layout = lay_out(result, row_limit=body_rows, in_attachment=in_files)
        png = chart_png(result.chart) if result.chart and cid else None
        src = f"cid:{cid}" if png else None
        layouts.append(layout)
        sections.append(html_section(layout, chart=result.chart, chart_src=src))
        charts.append(png)
    return MailBody(html=html_document(sections), text=plain_text(layouts), charts=charts)


def export(result: ReportResult, fmt: ReportFormat) -> Attachment:
    """The report as a file of format ``fmt``, every row in it."""
    match fmt:
        case ReportFormat.CSV:
            data = csv_bytes(result)
        case ReportFormat.XLSX:
            data = xlsx_bytes(result)
        case ReportFormat.PDF:
            data = pdf_bytes(result)
        case ReportFormat.HTML:
            data = html_bytes(result)
    return Attachment(attachment_name(result, fmt.value), _CONTENT_TYPES[fmt], data)


def attachment_name(result: ReportResult, extension: str) -> str:
    """``<title as ASCII slug>-<local date of generation>.<extension>``, safe on every system
    and in every mail client (``Zaległe i na ten tydzień`` → ``zalegle-i-na-ten-tydzien``)."""
    day = local_datetime(result.generated_at, ZoneInfo(result.time_zone)).date()
    return f"{_slug(result.title)}-{day.isoformat()}.{extension}"


def _slug(title: str) -> str:
    # ł does not decompose into l + a mark like the other Polish letters do
    plain = title.replace("ł", "l").replace("Ł", "L")
    ascii_only = unicodedata.normalize("NFKD", plain).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_only.lower()).strip("-")
    return slug[:60].rstrip("-") or "report"
