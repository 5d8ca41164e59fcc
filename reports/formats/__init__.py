"""The output formats of a report: the HTML mail body with its text alternative, and the files
(CSV, XLSX, PDF, standalone HTML). They lay out a :class:`reports.model.ReportResult` and never
touch the database.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from hermes_groupware.models.enums import ReportFormat
from reports.formats.chart import chart_png
from reports.formats.csv_format import csv_bytes
from reports.formats.html import html_bytes, html_document
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
    """The mail's HTML and text alternative, and the PNG the HTML shows by ``cid:``."""

    html: str
    text: str
    chart_png: bytes | None


def mail_body(
    result: ReportResult, *, body_rows: int, chart_cid: str | None, in_attachment: bool = True
) -> MailBody:
    """The mail body: each table cut to ``body_rows`` data rows (totals kept) with a line
    saying how many more rows ``in_attachment`` has (say ``False`` when no file is attached).

    The chart is drawn only when the result has one and the caller gave ``chart_cid`` for it.
    """
    layout = lay_out(result, row_limit=body_rows, in_attachment=in_attachment)
    png = chart_png(result.chart) if result.chart and chart_cid else None
    html = html_document(layout, chart=result.chart, chart_src=f"cid:{chart_cid}" if png else None)
    return MailBody(html=html, text=plain_text(layout), chart_png=png)


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
