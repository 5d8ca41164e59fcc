"""What a saved view's definition may say, and the SQL filter it stands for.

A definition is JSON, checked key by key when the view is saved: unknown keys are refused, so a
typo never silently widens a view. Relative dates ("today", "+7", "-30") are resolved when the
view runs, in the viewer's time zone, so "due in the next week" stays true over time. Without
``statuses`` only open tasks match (``include_closed`` widens that); ``overdue: false`` means
"not overdue". The filter grants nothing: callers add the rights of whoever reads the rows.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, String, and_, false, func, not_, or_, select, true
from sqlalchemy.orm import Session

from hermes_groupware.errors import InvalidInput
from hermes_groupware.models import (
    CustomFieldDefinition,
    CustomFieldValue,
    Employee,
    Group,
    Register,
    SavedView,
    Task,
    group_members,
)
from hermes_groupware.models.enums import OPEN_STATUSES, FieldType, Priority, TaskStatus
from hermes_groupware.services.lookups import (
    customer_by_id,
    employee_by_login,
    group_by_slug,
    register_by_code,
)

FILTER_KEYS = (
    "registers",
    "statuses",
    "priorities",
    "assignee",
    "group",
    "customer_id",
    "overdue",
    "due_from",
    "due_to",
    "created_from",
    "created_to",
    "fields",
    "text",
    "include_closed",
)
_RELATIVE = re.compile(r"^[+-]\d{1,4}$")
_YES, _NO = {"true", "yes", "tak", "1"}, {"false", "no", "nie", "0"}
_MAX_TEXT = 200


def check_definition(session: Session, raw: Mapping[str, Any]) -> dict[str, Any]:
    """The definition normalised (codes upper-case, names checked), or InvalidInput naming the
    offending key."""
    unknown = sorted(set(raw) - set(FILTER_KEYS))
    if unknown:
        raise InvalidInput(unknown[0], f"unknown filter; known: {', '.join(FILTER_KEYS)}")
    checked = {key: _CHECKS[key](session, key, value) for key, value in raw.items()}
    if "statuses" in checked and "include_closed" in checked:
        raise InvalidInput("include_closed", "not together with statuses: they say which")
    for low, high in (("due_from", "due_to"), ("created_from", "created_to")):
        _check_order(checked, low, high)
    return dict(sorted(checked.items()))


def _check_order(checked: dict[str, Any], low: str, high: str) -> None:
    """Both absolute or both relative: the window is empty forever when they are reversed."""
    if low not in checked or high not in checked:
        return
    first, last = checked[low], checked[high]
    if _is_absolute(first) == _is_absolute(last):
        today = dt.date(2000, 1, 1)  # any day: same-kind bounds compare the same on every day
        if _resolve_day(first, today) > _resolve_day(last, today):
            raise InvalidInput(high, f"{last} is before {low} {first}")


def _is_absolute(text: str) -> bool:
    return text != "today" and not _RELATIVE.match(text)


def _resolve_day(text: str, today: dt.date) -> dt.date:
    """A stored date bound as a date: ``today``, ``+N``/``-N`` days from today, or ISO."""
    if text == "today":
        return today
    if _RELATIVE.match(text):
        return today + dt.timedelta(days=int(text))
    return dt.date.fromisoformat(text)


def _texts(key: str, value: Any) -> list[str]:
    if not isinstance(value, list | tuple) or not value:
        raise InvalidInput(key, "expected a non-empty list")
    if not all(isinstance(v, str) and v.strip() for v in value):
        raise InvalidInput(key, "expected names, not empty values")
    return list(dict.fromkeys(v.strip() for v in value))


def _registers(session: Session, key: str, value: Any) -> list[str]:
    codes = (register_by_code(session, code, field=key).code for code in _texts(key, value))
    return list(dict.fromkeys(codes))


def _choices(allowed: type[TaskStatus] | type[Priority]) -> Callable[[Session, str, Any], Any]:
    def check(_session: Session, key: str, value: Any) -> list[str]:
        known = [member.value for member in allowed]
        given = _texts(key, value)
        wrong = [v for v in given if v not in known]
        if wrong:
            raise InvalidInput(key, f"{wrong[0]!r} is none of {', '.join(known)}")
        return given

    return check


def _text(key: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(key, "expected a non-empty text")
    if len(value) > _MAX_TEXT:
        raise InvalidInput(key, f"at most {_MAX_TEXT} characters")
    return value.strip()


def _assignee(session: Session, key: str, value: Any) -> str:
    return employee_by_login(session, _text(key, value), field=key).login


def _group(session: Session, key: str, value: Any) -> str:
    return group_by_slug(session, _text(key, value), field=key).slug


def _customer(session: Session, key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(key, "expected a customer id (a number)")
    if not 0 < value < 2**31:  # an id the database cannot hold (SQLite raises OverflowError)
        raise InvalidInput(key, f"no customer with id {value}")
    return customer_by_id(session, value, field=key).id


def _flag(_session: Session, key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(key, "expected true or false")
    return value


def _day(_session: Session, key: str, value: Any) -> str:
    text = _text(key, value).lower()
    if text == "today" or _RELATIVE.match(text):
        return text
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError as exc:
        raise InvalidInput(key, "expected YYYY-MM-DD, today, +N or -N (days)") from exc


def _free_text(_session: Session, key: str, value: Any) -> str:
    return _text(key, value)


def _fields(session: Session, key: str, value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping) or not value:
        raise InvalidInput(key, "expected {custom field key: value}")
    checked: dict[str, str] = {}
    for field_key, raw in value.items():
        name = f"{key}.{field_key}"
        definitions = _definitions(session, str(field_key))
        if not definitions:
            raise InvalidInput(name, "no such custom field")
        if not isinstance(raw, str | int | float | Decimal) or not str(raw).strip():
            raise InvalidInput(name, "expected a value")
        text = str(raw).strip().lower() if isinstance(raw, bool) else str(raw).strip()
        if all(_typed(d, text) is None for d in definitions):
            kinds = sorted({FieldType(d.field_type).value for d in definitions})
            raise InvalidInput(name, f"{text!r} is not a valid {' or '.join(kinds)} value")
        checked[str(field_key)] = text
    return checked


_CHECKS: dict[str, Callable[[Session, str, Any], Any]] = {
    "registers": _registers,
    "statuses": _choices(TaskStatus),
    "priorities": _choices(Priority),
    "assignee": _assignee,
    "group": _group,
    "customer_id": _customer,
    "overdue": _flag,
    "due_from": _day,
    "due_to": _day,
    "created_from": _day,
    "created_to": _day,
    "fields": _fields,
    "text": _free_text,
    "include_closed": _flag,
}


def _definitions(session: Session, key: str) -> list[CustomFieldDefinition]:
    """Every register's field of this key (one key may be defined in several registers)."""
    return list(
        session.scalars(
            select(CustomFieldDefinition)
            .where(CustomFieldDefinition.key == key)
            .order_by(CustomFieldDefinition.id)
        )
    )


def _number(text: str) -> Decimal | None:
    try:
        return Decimal(text.replace(",", "."))
    except InvalidOperation:
        return None


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _boolean(text: str) -> bool | None:
    word = text.lower()
    return (word in _YES) if word in _YES | _NO else None


_PARSERS: dict[FieldType, Callable[[str], Decimal | dt.date | bool | None]] = {
    FieldType.NUMBER: _number,
    FieldType.DATE: _date,
    FieldType.BOOLEAN: _boolean,
}


def _typed(definition: CustomFieldDefinition, text: str) -> str | Decimal | dt.date | bool | None:
    """The value as this field's type, or None when it cannot be one (so it matches nothing)."""
    field_type = FieldType(definition.field_type)
    if field_type is FieldType.CHOICE:
        return {c.lower(): c for c in definition.choices or []}.get(text.lower())
    parser = _PARSERS.get(field_type)
    return parser(text) if parser else text


def view_clause(
    session: Session, view: SavedView, *, zone: ZoneInfo, now: dt.datetime
) -> ColumnElement[bool]:
    """The tasks the view's filter selects, relative dates resolved in ``zone`` (no rights)."""
    definition: dict[str, Any] = json.loads(view.definition or "{}")
    today = now.astimezone(zone).date()
    parts = [_status_clause(definition)]
    for key, value in definition.items():
        if key in ("statuses", "include_closed"):
            continue
        parts.append(_CLAUSES[key](session, value, _When(zone, today, now)))
    return and_(*parts)


class _When:
    """The moment a view runs: relative dates and "overdue" depend on it."""

    def __init__(self, zone: ZoneInfo, today: dt.date, now: dt.datetime) -> None:
        self.zone, self.today, self.now = zone, today, now

    def local_midnight(self, day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(), self.zone)

    def day(self, text: str, *, after: bool = False) -> dt.date:
        """The bound's date; ``after``: the day after it (upper bounds include their day)."""
        return _resolve_day(text, self.today) + dt.timedelta(days=1 if after else 0)


def _status_clause(definition: Mapping[str, Any]) -> ColumnElement[bool]:
    if "statuses" in definition:
        return Task.status.in_(definition["statuses"])
    if definition.get("include_closed"):
        return true()
    return Task.status.in_(OPEN_STATUSES)


def due_passed(at: dt.datetime) -> ColumnElement[bool]:
    """The due had passed at ``at``, by the rule of ``Task.is_overdue``: all-day dues (stored at
    00:00 UTC of their date) from the next day, timed ones from their moment."""
    midnight = dt.datetime.combine(at.astimezone(dt.UTC).date(), dt.time(), dt.UTC)
    return or_(
        and_(Task.all_day.is_(True), Task.due < midnight),
        and_(Task.all_day.is_(False), Task.due < at),
    )


def overdue_clause(now: dt.datetime) -> ColumnElement[bool]:
    """Overdue in SQL, exactly as ``Task.is_overdue``: open, and the due has passed."""
    return and_(Task.status.in_(OPEN_STATUSES), Task.due.is_not(None), due_passed(now))


def _due_bound(text: str, when: _When, *, upper: bool) -> ColumnElement[bool]:
    """All-day dues compare by their date, timed ones by the viewer's local day."""
    day = when.day(text, after=upper)
    utc = dt.datetime.combine(day, dt.time(), dt.UTC)
    local = when.local_midnight(day)
    if upper:
        return or_(
            and_(Task.all_day.is_(True), Task.due < utc),
            and_(Task.all_day.is_(False), Task.due < local),
        )
    return or_(
        and_(Task.all_day.is_(True), Task.due >= utc),
        and_(Task.all_day.is_(False), Task.due >= local),
    )


def _folded(session: Session, column: Any) -> ColumnElement[str]:
    """Lower-cased text on every dialect: SQLite's own lower() knows only ASCII, and Polish
    users search for "łódź" in "ŁÓDŹ"."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return func.lower(column, type_=String())
    connection.connection.driver_connection.create_function(  # type: ignore[union-attr]
        "hermes_lower", 1, _lower, deterministic=True
    )
    return func.hermes_lower(column, type_=String())


def _lower(value: str | None) -> str | None:
    return None if value is None else value.lower()


def _text_clause(session: Session, text: str, _when: _When) -> ColumnElement[bool]:
    needle = text.lower()
    return or_(
        *(
            _folded(session, column).contains(needle, autoescape=True)
            for column in (Task.subject, Task.categories, Task.number)
        )
    )


def _fields_clause(session: Session, wanted: dict[str, str], _when: _When) -> ColumnElement[bool]:
    parts = []
    for key, text in wanted.items():
        matches = [
            and_(CustomFieldValue.field_id == d.id, _value_matches(session, d, typed))
            for d in _definitions(session, key)
            if (typed := _typed(d, text)) is not None
        ]
        holders = select(CustomFieldValue.task_id).where(or_(false(), *matches))
        parts.append(Task.id.in_(holders))
    return and_(*parts)


def _value_matches(
    session: Session, definition: CustomFieldDefinition, typed: str | Decimal | dt.date | bool
) -> ColumnElement[bool]:
    field_type = FieldType(definition.field_type)
    if field_type is FieldType.NUMBER:
        return CustomFieldValue.value_number == typed
    if field_type is FieldType.DATE:
        return CustomFieldValue.value_date == typed
    if field_type is FieldType.BOOLEAN:
        return CustomFieldValue.value_bool.is_(bool(typed))
    return _folded(session, CustomFieldValue.value_text) == str(typed).lower()


_Clause = Callable[[Session, Any, _When], ColumnElement[bool]]
_CLAUSES: dict[str, _Clause] = {
    "registers": lambda _s, codes, _w: Task.register_id.in_(
        select(Register.id).where(Register.code.in_(codes))
    ),
    "priorities": lambda _s, values, _w: Task.priority.in_(values),
    "assignee": lambda _s, login, _w: Task.responsible_id.in_(
        select(Employee.id).where(Employee.login == login)
    ),
    "group": lambda _s, slug, _w: Task.responsible_id.in_(
        select(group_members.c.employee_id)
        .join(Group, Group.id == group_members.c.group_id)
        .where(Group.slug == slug)
    ),
    "customer_id": lambda _s, customer_id, _w: Task.customer_id == customer_id,
    "overdue": lambda _s, wanted, w: (
        overdue_clause(w.now) if wanted else not_(overdue_clause(w.now))
    ),
    "due_from": lambda _s, text, w: _due_bound(text, w, upper=False),
    "due_to": lambda _s, text, w: _due_bound(text, w, upper=True),
    "created_from": lambda _s, text, w: Task.created_at >= w.local_midnight(w.day(text)),
    "created_to": lambda _s, text, w: Task.created_at < w.local_midnight(w.day(text, after=True)),
    "fields": _fields_clause,
    "text": _text_clause,
}
