"""Cron expressions: what is rejected, and fire times across the DST changes of Warsaw."""

from __future__ import annotations

import datetime as dt
from itertools import islice
from zoneinfo import ZoneInfo

import pytest

from hermes_groupware.errors import InvalidInput
from hermes_groupware.services import report_timing

WARSAW = ZoneInfo("Europe/Warsaw")


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        ("0 8 * *", "expected 5 fields"),
        ("0 0 8 * * MON", "expected 5 fields"),
        ("61 8 * * *", "bad value in the minute field"),
        ("0 25 * * *", "bad value in the hour field"),
        ("0 8 * * FUN", "bad value in the day-of-week field"),
        ("0 8 30 2 *", "bad value in the day-of-month field"),
    ],
)
def test_a_bad_expression_is_rejected_naming_cron_and_the_field(
    expression: str, problem: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        report_timing.validate_cron(expression)
    assert caught.value.field == "cron"
    assert problem in caught.value.message
    assert "0 8 * * MON" in caught.value.message  # an example of what works


def test_names_and_extra_spaces_are_accepted() -> None:
    assert report_timing.validate_cron("  0  8 * *   mon ") == "0 8 * * mon"
    assert report_timing.validate_cron("30 6 1 JAN-MAR MON-FRI") == "30 6 1 JAN-MAR MON-FRI"


def test_monday_eight_stays_eight_local_across_both_changes() -> None:
    spring = report_timing.upcoming(
        "0 8 * * MON", WARSAW, dt.datetime(2026, 3, 20, tzinfo=dt.UTC), 2
    )
    autumn = report_timing.upcoming(
        "0 8 * * MON", WARSAW, dt.datetime(2026, 10, 16, tzinfo=dt.UTC), 2
    )
    assert [f"{w:%d.%m %H:%M}" for w in spring + autumn] == [
        "23.03 08:00",
        "30.03 08:00",
        "19.10 08:00",
        "26.10 08:00",
    ]
    assert [w.astimezone(dt.UTC).hour for w in spring + autumn] == [7, 6, 6, 7]


def test_half_past_two_fires_once_in_autumn_and_at_three_in_spring() -> None:
    autumn = list(
        islice(
            report_timing.occurrences(
                "30 2 * * *", WARSAW, since=dt.datetime(2026, 10, 24, 12, tzinfo=dt.UTC)
            ),
            2,
        )
    )
    assert [w.astimezone(dt.UTC) for w in autumn] == [
        dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC),  # 02:30 summer time, once
        dt.datetime(2026, 10, 26, 1, 30, tzinfo=dt.UTC),
    ]
    spring = report_timing.next_after(
        "30 2 * * *", WARSAW, dt.datetime(2026, 3, 28, 12, tzinfo=dt.UTC)
    )
    assert spring == dt.datetime(2026, 3, 29, 1, 0, tzinfo=dt.UTC)  # 03:00 local, after the gap


def test_occurrences_include_the_start_and_labels_are_wall_clock_minutes() -> None:
    start = dt.datetime(2026, 11, 30, 7, 0, tzinfo=dt.UTC)  # Monday 08:00 in Warsaw
    first = next(report_timing.occurrences("0 8 * * MON", WARSAW, since=start))
    assert first == start
    assert report_timing.local_label(first, WARSAW) == "2026-11-30T08:00"
    summer = dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC)
    winter = dt.datetime(2026, 10, 25, 1, 30, tzinfo=dt.UTC)
    assert report_timing.local_label(summer, WARSAW) == report_timing.local_label(winter, WARSAW)
