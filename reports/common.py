"""What several report modules need: parameter checks, people's names, local calendar maths.

Parameters come from the CLI (``--param months=6``, so numbers arrive as text) or from a
schedule's stored JSON; the checks accept both and normalise them. Every problem is an
:class:`InvalidInput` naming ``params.<key>``, so the CLI can say which parameter is wrong.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, not_, or_, select
from sqlalchemy.orm import Session

from hermes_groupware.errors import InvalidInput
from hermes_groupware.models import Employee, Task

# --- parameters --------------------------------------------------------------------------------


def reject_unknown(params: Mapping[str, Any], allowed: Iterable[str]) -> None:
    """A misspelt key must not silently fall back to a default."""
    known = set(allowed)
    for key in params:
        if key not in known:
            expected = ", ".join(sorted(known)) or "none"
            raise InvalidInput(f"params.{key}", f"unknown parameter (expected: {expected})")


def optional_text(params: Mapping[str, Any], key: str) -> str | None:
    """A non-empty string, or None when the key is absent, null or blank."""
    value = params.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"params.{key}", "a text value")
    return value.strip() or None


def bounded_int(params: Mapping[str, Any], key: str, *, default: int, low: int, high: int) -> int:
    """A whole number in ``low..high`` (a digit string is fine), or the default when absent."""
    value = params.get(key, default)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(f"params.{key}", f"a whole number from {low} to {high}")
    return value


def choice(params: Mapping[str, Any], key: str, choices: Sequence[str], default: str) -> str:
    """One of ``choices`` (case-insensitive), or the default when absent."""
    value = params.get(key, default)
    if isinstance(value, str) and value.strip().lower() in choices:
        return value.strip().lower()
    raise InvalidInput(f"params.{key}", f"one of {', '.join(choices)}")


def text_list(params: Mapping[str, Any], key: str, default: Sequence[str]) -> list[str]:
    """A non-empty list of words, given as a list or as a comma-separated string."""
    value = params.get(key, list(default))
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InvalidInput(f"params.{key}", "a list of words or a comma-separated string")
    words = list(dict.fromkeys(item.strip() for item in value if item.strip()))
    if not words:
        raise InvalidInput(f"params.{key}", "at least one value")
    return words


# --- people -------------------------------------------------------------------------------------


def employee_names(session: Session, ids: Iterable[int]) -> dict[int, str]:
    """Full names by id, in the order people are listed (surname, then first name)."""
    wanted = set(ids)
    if not wanted:
        return {}
    rows = session.execute(
        select(Employee.id, Employee.first_name, Employee.last_name)
        .where(Employee.id.in_(wanted))
        .order_by(Employee.last_name, Employee.first_name, Employee.login)
    )
    return {employee_id: f"{first} {last}" for employee_id, first, last in rows}


# --- local calendar -----------------------------------------------------------------------------


def local_start(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    """The UTC instant at which ``day`` begins in ``zone`` (what a "week" or "month" is about)."""
    return dt.datetime.combine(day, dt.time(), tzinfo=zone).astimezone(dt.UTC)


def monday(day: dt.date) -> dt.date:
    """The Monday of the ISO week of ``day``."""
    return day - dt.timedelta(days=day.weekday())


# --- task dates ---------------------------------------------------------------------------------


def _utc_midnight(day: dt.date) -> dt.datetime:
    """Where an all-day date is stored (00:00 UTC of that date)."""
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def local_date(value: dt.datetime, all_day: bool, zone: ZoneInfo) -> dt.date:
    """The date a person reads: an all-day date as stored, a time as the date in their zone."""
    return value.date() if all_day else value.astimezone(zone).date()


def days_overdue(due_day: dt.date, today: dt.date) -> int:
    """Whole days past the due day (0: due earlier today; never negative, as the all-day rule
    counts by the UTC date and a zone west of UTC may still be on the due day)."""
    return max((today - due_day).days, 0)


def on_or_before(column: Any, last: dt.date, zone: ZoneInfo) -> ColumnElement[bool]:
    """A task date (``Task.due``, ``Task.planned_start``) falls on local day ``last`` or earlier."""
    end = last + dt.timedelta(days=1)
    return or_(
        and_(Task.all_day, column < _utc_midnight(end)),
        and_(not_(Task.all_day), column < local_start(end, zone)),
    )
