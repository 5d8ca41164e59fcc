"""How values read in the HTML mail, the text and the PDF, in both languages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from hermes_groupware.models.enums import Locale
from reports.formatting import NBSP, format_value
from reports.model import ValueKind

WARSAW = ZoneInfo("Europe/Warsaw")


@pytest.mark.parametrize(
    ("value", "kind", "polish", "english"),
    [
        (Decimal("1234.5"), "money", f"1{NBSP}234,50", "1,234.50"),
        (Decimal("-1234567.891"), "money", f"-1{NBSP}234{NBSP}567,89", "-1,234,567.89"),
        (2.675, "money", "2,68", "2.68"),  # half up on the decimal text, not the binary float
        (Decimal("0.005"), "money", "0,01", "0.01"),
        (1234, "int", f"1{NBSP}234", "1,234"),
        (7, "int", "7", "7"),
        (Decimal("2.5"), "int", "3", "3"),
        (Decimal("2.5"), "decimal", "2,5", "2.5"),
        (Decimal(2), "decimal", "2,0", "2.0"),
        (Decimal("1.255"), "decimal", "1,26", "1.26"),
        (Decimal("12.5"), "percent", f"12,5{NBSP}%", "12.5%"),
        (100, "percent", f"100{NBSP}%", "100%"),
        (Decimal("33.333"), "percent", f"33,3{NBSP}%", "33.3%"),
        (dt.date(2026, 11, 27), "date", "2026-11-27", "2026-11-27"),
        ("Zażółć", "text", "Zażółć", "Zażółć"),
        (42, "text", "42", "42"),  # an id in a text column is not grouped
        (None, "money", "", ""),
        (None, "text", "", ""),
    ],
)
def test_values_read_in_the_readers_language(
    value: object, kind: ValueKind, polish: str, english: str
) -> None:
    assert format_value(value, kind, Locale.PL, WARSAW) == polish
    assert format_value(value, kind, Locale.EN, WARSAW) == english


@pytest.mark.parametrize(
    ("moment", "shown"),
    [
        (dt.datetime(2026, 7, 1, 6, 0, tzinfo=dt.UTC), "2026-07-01 08:00"),  # summer: UTC+2
        (dt.datetime(2026, 12, 1, 6, 0, tzinfo=dt.UTC), "2026-12-01 07:00"),  # winter: UTC+1
        (dt.datetime(2026, 12, 1, 6, 0), "2026-12-01 07:00"),  # noqa: DTZ001 naive is UTC
        (dt.datetime(2026, 12, 1, 6, 0, tzinfo=ZoneInfo("America/New_York")), "2026-12-01 12:00"),
    ],
)
def test_datetimes_are_shown_in_the_readers_zone(moment: dt.datetime, shown: str) -> None:
    assert format_value(moment, "datetime", Locale.PL, WARSAW) == shown


def test_a_datetime_in_a_date_column_is_the_readers_local_day() -> None:
    late_evening_utc = dt.datetime(2026, 11, 27, 23, 30, tzinfo=dt.UTC)
    assert format_value(late_evening_utc, "date", Locale.EN, WARSAW) == "2026-11-28"
    assert format_value(late_evening_utc, "date", Locale.EN, ZoneInfo("UTC")) == "2026-11-27"


def test_a_text_in_a_number_column_is_shown_as_it_is() -> None:
    assert format_value("—", "money", Locale.PL, WARSAW) == "—"
