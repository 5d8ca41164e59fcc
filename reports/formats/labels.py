"""The fixed words of every format in Polish and English, in one place so they read the same."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from hermes_groupware.models.enums import Locale
from reports.formatting import format_value
from reports.model import tr


@dataclass(frozen=True)
class Labels:
    """Captions around the report's own data."""

    generated: str
    time_zone: str
    no_data: str
    overdue_legend: str
    overdue_mark: str
    page: str
    page_of: str
    summary: str
    pivot: str
    figure: str
    value: str
    category: str
    contents: str


def labels(locale: Locale) -> Labels:
    """The captions in the reader's language."""
    return Labels(
        generated=tr(locale, "Wygenerowano", "Generated"),
        time_zone=tr(locale, "Strefa czasowa", "Time zone"),
        no_data=tr(locale, "Brak danych", "No data"),
        overdue_legend=tr(locale, "Na czerwono: po terminie", "In red: overdue"),
        overdue_mark=tr(locale, "! – po terminie", "! – overdue"),
        page=tr(locale, "Strona", "Page"),
        page_of=tr(locale, "z", "of"),
        summary=tr(locale, "Podsumowanie", "Summary"),
        pivot=tr(locale, "Tabela przestawna", "Pivot"),
        figure=tr(locale, "Wskaźnik", "Figure"),
        value=tr(locale, "Wartość", "Value"),
        category=tr(locale, "Kategoria", "Category"),
        contents=tr(locale, "W tym e-mailu", "In this e-mail"),
    )


def more_rows(locale: Locale, count: int, *, in_attachment: bool) -> str:
    """The line under a table cut short in the mail body ("and 12 more rows in the attachment")."""
    number = format_value(count, "int", locale, ZoneInfo("UTC"))
    if locale is Locale.PL:
        noun = _polish_plural(count, "wiersz", "wiersze", "wierszy")
        where = " w załączniku" if in_attachment else ""
        return f"… i jeszcze {number} {noun}{where}"
    noun = "row" if count == 1 else "rows"
    where = " in the attachment" if in_attachment else ""
    return f"… and {number} more {noun}{where}"


def _polish_plural(count: int, one: str, few: str, many: str) -> str:
    """Polish has three forms: 1 wiersz, 2–4 (but not 12–14) wiersze, otherwise wierszy."""
    if count == 1:
        return one
    if count % 10 in (2, 3, 4) and count % 100 not in (12, 13, 14):
        return few
    return many
