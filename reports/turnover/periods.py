"""Calendar periods of the turnover report: the last complete one and the one before it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from reports import common

PERIODS = ("week", "month", "quarter", "year")
_MONTHS = {"month": 1, "quarter": 3, "year": 12}


@dataclass(frozen=True)
class Period:
    """Days ``first`` to ``last`` inclusive, with the name people use for it."""

    first: dt.date
    last: dt.date
    name: str

    def __contains__(self, day: object) -> bool:
        return isinstance(day, dt.date) and self.first <= day <= self.last


def _month_start(year: int, month_index: int) -> dt.date:
    """The first day of a month counted from ``year``'s January (index may overflow)."""
    years, month = divmod(month_index, 12)
    return dt.date(year + years, month + 1, 1)


def _name(kind: str, first: dt.date) -> str:
    if kind == "week":
        year, week, _day = first.isocalendar()
        return f"{year}-W{week:02d}"
    if kind == "month":
        return f"{first:%Y-%m}"
    if kind == "quarter":
        return f"{first.year}-Q{(first.month - 1) // 3 + 1}"
    return str(first.year)


def last_two(today: dt.date, kind: str) -> tuple[Period, Period]:
    """The last complete period before ``today``'s and the one before that (both whole)."""
    if kind == "week":
        starts = [common.monday(today) - dt.timedelta(weeks=n) for n in (2, 1, 0)]
    else:
        step = _MONTHS[kind]
        current = (today.month - 1) // step * step
        starts = [_month_start(today.year, current - n * step) for n in (2, 1, 0)]
    previous, current_, end = starts
    one_day = dt.timedelta(days=1)
    return (
        Period(current_, end - one_day, _name(kind, current_)),
        Period(previous, current_ - one_day, _name(kind, previous)),
    )


def months_between(first: dt.date, last: dt.date) -> list[str]:
    """``YYYY-MM`` of every month from ``first`` to ``last``."""
    index = first.month - 1
    months = []
    while (day := _month_start(first.year, index)) <= last:
        months.append(f"{day:%Y-%m}")
        index += 1
    return months
