"""The mail body's cut tables and the fixed captions in both languages."""

from __future__ import annotations

import pytest

from hermes_groupware.models.enums import Locale
from reports.formats.labels import more_rows
from reports.formats.layout import lay_out
from tests.reports.samples import sample_result


@pytest.mark.parametrize(
    ("count", "polish", "english"),
    [
        (1, "… i jeszcze 1 wiersz w załączniku", "… and 1 more row in the attachment"),
        (2, "… i jeszcze 2 wiersze w załączniku", "… and 2 more rows in the attachment"),
        (4, "… i jeszcze 4 wiersze w załączniku", "… and 4 more rows in the attachment"),
        (5, "… i jeszcze 5 wierszy w załączniku", "… and 5 more rows in the attachment"),
        (12, "… i jeszcze 12 wierszy w załączniku", "… and 12 more rows in the attachment"),
        (22, "… i jeszcze 22 wiersze w załączniku", "… and 22 more rows in the attachment"),
        (112, "… i jeszcze 112 wierszy w załączniku", "… and 112 more rows in the attachment"),
        (
            1234,
            "… i jeszcze 1\u00a0234 wiersze w załączniku",
            "… and 1,234 more rows in the attachment",
        ),
    ],
)
def test_the_cut_off_line_counts_in_both_languages(count: int, polish: str, english: str) -> None:
    assert more_rows(Locale.PL, count, in_attachment=True) == polish
    assert more_rows(Locale.EN, count, in_attachment=True) == english


def test_without_an_attachment_the_line_does_not_promise_one() -> None:
    assert more_rows(Locale.PL, 5, in_attachment=False) == "… i jeszcze 5 wierszy"
    assert more_rows(Locale.EN, 5, in_attachment=False) == "… and 5 more rows"


def test_a_cut_table_keeps_its_first_rows_and_its_totals() -> None:
    layout = lay_out(sample_result(rows=6), row_limit=2)
    tasks = layout.tables[0]
    assert [row.cells[0] for row in tasks.rows] == ["HAN/2026/0000", "HAN/2026/0001", "Razem"]
    assert tasks.rows[-1].total
    assert tasks.more == "… i jeszcze 4 wiersze w załączniku"
    assert layout.tables[1].more == ""  # two rows fit


def test_without_a_limit_every_row_is_laid_out() -> None:
    layout = lay_out(sample_result(rows=6), row_limit=None)
    assert len(layout.tables[0].rows) == 7
    assert layout.tables[0].more == ""


def test_the_layout_shows_every_value_as_the_reader_reads_it() -> None:
    layout = lay_out(sample_result(Locale.EN, rows=2), row_limit=None)
    first = layout.tables[0].rows[0]
    assert first.overdue
    assert first.cells == (
        "HAN/2026/0000",
        "Zażółć gęślą jaźń 0 ąęłńóśźżĄĘŁŃÓŚŹŻ",
        "2026-11-01",
        "2026-11-20 23:30",
        "0",
        "1,234.50",
        "0%",
        "0.0",
    )
    assert layout.tables[0].numeric == (False, False, False, False, True, True, True, True)
    assert layout.generated == "2026-11-27 08:00 (Europe/Warsaw)"
    assert [(figure.label, figure.value) for figure in layout.figures] == [
        ("Overdue", "1"),
        ("Value", "3,703.50"),
    ]
