"""The report as one CSV file for Excel and for scripts.

- UTF-8 with a byte-order mark, so Excel shows Polish letters;
- Polish readers get ``;`` between fields and a decimal comma (what Excel pl-PL expects),
  English readers ``,`` and a decimal point;
- raw values: numbers unformatted (no thousands separator; percent as the number 0..100),
  dates ISO ``2026-11-27``, datetimes ``2026-11-27 08:00:00`` in the reader's zone;
- one table: a header line and the rows. Several tables: each is a section, its title on a
  line of its own, then its header and rows, with a blank line between sections;
- key figures, the chart and the crosstab are in the XLSX and PDF, not here;
- a text field starting with ``=``, ``+``, ``-``, ``@`` or a control character gets a leading
  ``'``, so a customer-written subject cannot run as an Excel formula (CSV injection).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from hermes_groupware.models.enums import Locale
from reports.formatting import is_number, local_datetime
from reports.model import ReportResult, Table

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_bytes(result: ReportResult) -> bytes:
    """The CSV file's bytes."""
    polish = result.locale is Locale.PL
    zone = ZoneInfo(result.time_zone)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";" if polish else ",")
    sections = len(result.tables) > 1
    for index, table in enumerate(result.tables):
        if sections:
            if index:
                writer.writerow([])
            writer.writerow([table.title])
        writer.writerows(_lines(table, polish, zone))
    return buffer.getvalue().encode("utf-8-sig")


def _lines(table: Table, polish: bool, zone: ZoneInfo) -> Iterator[list[str]]:
    yield [_field(column.label, polish, zone) for column in table.columns]
    for row in table.rows:
        yield [_field(row.values.get(column.key), polish, zone) for column in table.columns]


def _field(value: Any, polish: bool, zone: ZoneInfo) -> str:
    """One field: the value unformatted, in the reader's decimal mark and zone."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return f"{local_datetime(value, zone):%Y-%m-%d %H:%M:%S}"
    if isinstance(value, dt.date):
        return value.isoformat()
    if is_number(value):
        text = f"{Decimal(str(value)):f}"
        return text.replace(".", ",") if polish else text
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text
