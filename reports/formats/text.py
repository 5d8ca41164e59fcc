"""Tables as aligned lines of text: the plain-text alternative of the report mail (one section
per report of the schedule), and the compact listing the PDF prints long tables as.

Overdue rows start with ``!`` (there is no red in plain text or on a black-and-white printer),
numbers are right-aligned, and a very long cell is cut so one row stays on one line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reports.formats.layout import ReportLayout, RowLayout, TableLayout
from reports.formats.rendering import render

_WIDEST_CELL = 40
_GAP = "  "
#: the line between two reports of one mail
_SECTION_RULE = "=" * 60


@dataclass(frozen=True)
class AlignedTable:
    """A table's header, the rule under it and one line per row, padded to line up in a
    fixed-width font."""

    header: str
    rule: str
    rows: list[str]

    @property
    def width(self) -> int:
        """Characters in the longest line."""
        return max(len(line) for line in [self.header, *self.rows])


@dataclass(frozen=True)
class TextTable:
    """A table's title and its lines, ready to print."""

    title: str
    lines: list[str]


@dataclass(frozen=True)
class TextSection:
    """One report of the text: its texts and its tables' lines."""

    report: ReportLayout
    tables: list[TextTable]


def plain_text(layouts: Sequence[ReportLayout]) -> str:
    """The reports as text; several get a list of contents and a rule before each one, a
    single report reads as itself alone."""
    if not layouts:
        raise ValueError("a text needs at least one report")
    sections = [
        TextSection(layout, [TextTable(t.title, _lines(t, layout)) for t in layout.tables])
        for layout in layouts
    ]
    return render("report.txt", sections=sections, rule=_SECTION_RULE)


def aligned(table: TableLayout) -> AlignedTable:
    """The table's lines; the ``!`` column is there only when a row is overdue."""
    widths = [len(header) for header in table.headers]
    for row in table.rows:
        widths = [
            max(width, len(_cut(text))) for width, text in zip(widths, row.cells, strict=True)
        ]
    indent = "  " if table.has_overdue else ""
    return AlignedTable(
        header=_line(table.headers, widths, table.numeric, indent),
        rule=_line(tuple("-" * width for width in widths), widths, table.numeric, indent),
        rows=[_line(row.cells, widths, table.numeric, _mark(row, indent)) for row in table.rows],
    )


def _lines(table: TableLayout, layout: ReportLayout) -> list[str]:
    if not table.rows:
        return [layout.labels.no_data]
    lines = aligned(table)
    return [lines.header, lines.rule, *lines.rows, *([table.more] if table.more else [])]


def _mark(row: RowLayout, indent: str) -> str:
    return "! " if indent and row.overdue else indent


def _line(cells: tuple[str, ...], widths: list[int], numeric: tuple[bool, ...], mark: str) -> str:
    parts = [
        _cut(text).rjust(width) if right else _cut(text).ljust(width)
        for text, width, right in zip(cells, widths, numeric, strict=True)
    ]
    return (mark + _GAP.join(parts)).rstrip()


def _cut(text: str) -> str:
    return text if len(text) <= _WIDEST_CELL else text[: _WIDEST_CELL - 1] + "…"
