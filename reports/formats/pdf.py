"""The print layout as PDF (WeasyPrint from the ``print.html`` template).

WeasyPrint keeps about 25 layout boxes (and their Pango layouts) per table row until the PDF is
written: a 10,000-row table as a real table took about a minute and 1.6 GB. So a table of more
than ``LISTING_FROM`` rows is printed as a compact listing instead: one line of fixed-width
text per row, columns aligned as in the plain-text mail, overdue rows red (and marked ``!``
for black-and-white printers), in one preformatted block per page that starts with the header.
Lines in a ``pre`` are far cheaper for WeasyPrint than table rows (a one-column table of the
same lines takes twice as long), and the whole listing about a tenth of the real table's time;
shorter tables keep the real table layout.

The fonts are matplotlib's bundled DejaVu Sans, embedded in the PDF, so Polish letters print on
any machine, whatever fonts the server has. WeasyPrint may only read those font files and
``data:`` URIs (the chart): report data never makes it fetch a file or a URL.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

from reports.formats.chart import chart_png, data_uri
from reports.formats.layout import TableLayout, lay_out
from reports.formats.rendering import render
from reports.formats.text import AlignedTable, aligned
from reports.model import ReportResult

with warnings.catch_warnings():
    # WeasyPrint warns at import when the system lacks libharfbuzz-subset (it then subsets
    # fonts with fontTools, which works); an environment notice, not a fault of ours.
    warnings.filterwarnings("ignore", "HarfBuzz-Subset", DeprecationWarning)
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

_FONT_DIR = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
FONTS = {
    "regular": (_FONT_DIR / "DejaVuSans.ttf").as_uri(),
    "bold": (_FONT_DIR / "DejaVuSans-Bold.ttf").as_uri(),
    "mono": (_FONT_DIR / "DejaVuSansMono.ttf").as_uri(),
    "mono_bold": (_FONT_DIR / "DejaVuSansMono-Bold.ttf").as_uri(),
}
#: tables with this many columns are printed on landscape pages
LANDSCAPE_FROM = 7
#: tables with more rows are printed as a listing
LISTING_FROM = 500
_WIDEST_SHARE = 40
#: the text width of an A4 page in points, portrait and landscape (12 mm side margins)
_TEXT_WIDTH = {False: 527.0, True: 774.0}
#: the text height of an A4 page in points, portrait and landscape (18 + 16 mm margins)
_TEXT_HEIGHT = {False: 745.0, True: 499.0}
#: DejaVu Sans Mono's advance width in em, and the listing's largest font size in points
_MONO_ADVANCE = 0.602
_LISTING_POINTS = 8.0
#: the listing's line height in em (print.css says the same)
_LINE_HEIGHT = 1.25


@dataclass(frozen=True)
class _Line:
    """One line of a listing; ``style`` is its CSS class (overdue, total) or empty."""

    text: str
    style: str


@dataclass(frozen=True)
class _PrintTable:
    """A table and how it prints: as a table with column widths in percent, or as a listing at
    a font size that fits the page."""

    table: TableLayout
    widths: list[float]
    listing: AlignedTable | None
    font_points: float
    #: the listing's lines in blocks of one page each
    pages: list[list[_Line]]


class _OwnResourcesOnly(URLFetcher):  # type: ignore[misc]
    """Fetches the embedded fonts and ``data:`` URIs, refuses everything else."""

    def fetch(self, url: str, headers: Mapping[str, str] | None = None) -> Any:
        if url.startswith("data:") or url in FONTS.values():
            return super().fetch(url, headers)
        raise ValueError(f"report PDFs load no outside resource: {url[:80]}")


def pdf_bytes(result: ReportResult) -> bytes:
    """The whole report (every row) as an A4 PDF."""
    layout = lay_out(result, row_limit=None)
    listings = [
        aligned(table) if len(table.rows) > LISTING_FROM else None for table in layout.tables
    ]
    landscape = layout.widest >= LANDSCAPE_FROM or any(
        listing.width * _MONO_ADVANCE * _LISTING_POINTS > _TEXT_WIDTH[False]
        for listing in listings
        if listing
    )
    tables = []
    for table, listing in zip(layout.tables, listings, strict=True):
        points = _listing_points(listing, landscape)
        tables.append(
            _PrintTable(
                table=table,
                widths=[] if listing else _column_widths(table),
                listing=listing,
                font_points=points,
                pages=_pages(table, listing, points, landscape) if listing else [],
            )
        )
    html = render(
        "print.html",
        report=layout,
        tables=tables,
        fonts=FONTS,
        landscape=landscape,
        chart_src=data_uri(chart_png(result.chart)) if result.chart else None,
        chart_title=result.chart.title if result.chart else "",
    )
    fetcher = _OwnResourcesOnly(fail_on_errors=True)
    pdf: bytes = HTML(string=html, url_fetcher=fetcher).write_pdf()
    return pdf


def _pages(
    table: TableLayout, listing: AlignedTable, points: float, landscape: bool
) -> list[list[_Line]]:
    """The listing's lines cut into blocks that fit a page below the header and its rule."""
    per_page = max(int(_TEXT_HEIGHT[landscape] / (points * _LINE_HEIGHT)) - 3, 10)
    lines = [
        _Line(text, ("overdue " if row.overdue else "") + ("total" if row.total else ""))
        for row, text in zip(table.rows, listing.rows, strict=True)
    ]
    return [lines[start : start + per_page] for start in range(0, len(lines), per_page)]


def _listing_points(listing: AlignedTable | None, landscape: bool) -> float:
    """The largest font size (at most ``_LISTING_POINTS``) that fits the listing's lines."""
    if listing is None:
        return _LISTING_POINTS
    fitting = _TEXT_WIDTH[landscape] / (max(listing.width, 1) * _MONO_ADVANCE)
    return math.floor(min(fitting, _LISTING_POINTS) * 10) / 10


def _column_widths(table: TableLayout) -> list[float]:
    """Column widths in percent, by the longest text in each column (one column may not take
    more than ``_WIDEST_SHARE`` characters' worth, so a long subject cannot squeeze the rest)."""
    longest = [len(header) for header in table.headers]
    for row in table.rows:
        longest = [max(width, len(text)) for width, text in zip(longest, row.cells, strict=True)]
    capped = [min(max(width, 4), _WIDEST_SHARE) for width in longest]
    total = sum(capped) or 1
    return [round(100 * width / total, 2) for width in capped]
