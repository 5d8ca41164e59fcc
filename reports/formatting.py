"""How a report value reads in the HTML mail, the plain text and the PDF.

One function so that every format of one report spells a number the same way:

- numbers follow the reader's language: Polish ``1 234,50`` (no-break space between thousands,
  decimal comma), English ``1,234.50``; ``money`` always has two decimals, ``decimal`` one or
  two, ``int`` none, ``percent`` (a number 0..100) at most one and a ``%`` sign (in Polish after
  a no-break space, as Polish typesetting has it);
- dates are ISO ``2026-11-27`` in both languages: unambiguous, sortable, and the same as in the
  CSV and the report periods;
- datetimes are shown in the reader's zone as ``2026-11-27 08:00`` (a naive datetime is taken
  as UTC, which is how the database stores them);
- ``None`` is an empty string.

Spreadsheets (CSV, XLSX) get raw values instead; they share :func:`local_datetime` with this.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from hermes_groupware.models.enums import Locale
from reports.model import ValueKind

NBSP = "\u00a0"
#: the step each numeric kind is rounded to
_DECIMALS: dict[str, Decimal] = {
    "int": Decimal(1),
    "money": Decimal("0.01"),
    "decimal": Decimal("0.01"),
    "percent": Decimal("0.1"),
}
#: the kinds shown as numbers (right-aligned; number cells in spreadsheets)
NUMERIC_KINDS = frozenset(_DECIMALS)


def local_datetime(value: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """The moment in the reader's zone (naive values are UTC, as the database keeps them)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(zone)


def format_value(value: Any, kind: ValueKind, locale: Locale, zone: ZoneInfo) -> str:
    """The value as the reader sees it in a table cell or a key figure.

    The value's type decides first (a datetime is always shown in the zone, a number in a text
    column reads as plain ``str``, e.g. an id), the column's kind second.
    """
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        moment = local_datetime(value, zone)
        return moment.date().isoformat() if kind == "date" else f"{moment:%Y-%m-%d %H:%M}"
    if isinstance(value, dt.date):
        return value.isoformat()
    if is_number(value) and kind in NUMERIC_KINDS:
        return _number(value, kind, locale)
    return str(value)


def is_number(value: Any) -> bool:
    """A number a spreadsheet should get as a number (``bool`` is no number here)."""
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _number(value: int | float | Decimal, kind: ValueKind, locale: Locale) -> str:
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    rounded = number.quantize(_DECIMALS[kind], ROUND_HALF_UP)  # commercial rounding, as in money
    if kind == "percent":
        rounded = rounded.normalize()
    text = f"{rounded:,f}"
    if kind == "decimal" and text.endswith("0"):
        text = text[:-1]  # one or two decimals: 2.0, 2.5, 2.25
    if locale is Locale.PL:
        text = text.replace(",", NBSP).replace(".", ",")
    if kind == "percent":
        text += f"{NBSP}%" if locale is Locale.PL else "%"
    return text
