"""The rows of a saved view: its columns, its sort order and one query under given rights.

Values stay typed (dates of all-day tasks as ``date``, other moments as aware UTC
``datetime``, amounts as ``Decimal``) so that each output lays them out its own way. There is
no parent column: a sub-task delegated without its parent must not reveal it here either.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from hermes_groupware.errors import InvalidInput
from hermes_groupware.models import (
    Customer,
    CustomFieldDefinition,
    CustomFieldValue,
    Employee,
    Register,
    SavedView,
    Task,
)
from hermes_groupware.models.enums import Priority, TaskStatus
from hermes_groupware.services.view_filter import overdue_clause, view_clause

COLUMNS = (
    "number",
    "register",
    "subject",
    "status",
    "priority",
    "planned_start",
    "due",
    "completed_at",
    "responsible",
    "customer",
    "categories",
    "opportunity_value",
    "overdue",
)
FIELD_PREFIX = "field:"
DEFAULT_COLUMNS = ("number", "register", "subject", "status", "due", "responsible", "customer")
DEFAULT_SORT = ("due", "number")
_CHUNK = 500  # task ids per custom-field query (well under every dialect's parameter limit)


@dataclass(frozen=True)
class ViewRow:
    """One task: ``values`` by column key; ``overdue`` rows are shown in red."""

    task_id: int
    values: dict[str, Any]
    overdue: bool


@dataclass(frozen=True)
class ViewRows:
    """A view's rows; ``total`` counts every match, also beyond a limit."""

    name: str
    columns: list[str]
    #: labels of the ``field:<key>`` columns, by key
    field_labels: dict[str, str]
    rows: list[ViewRow]
    total: int


def check_columns(session: Session, columns: Sequence[str]) -> list[str]:
    """Known columns and existing custom fields, each once; none given: the default set."""
    if not columns:
        return list(DEFAULT_COLUMNS)
    checked: list[str] = []
    for column in (c.strip() for c in columns):
        if column in checked:
            raise InvalidInput("columns", f"{column} is listed twice")
        if column.startswith(FIELD_PREFIX):
            key = column.removeprefix(FIELD_PREFIX)
            found = select(CustomFieldDefinition.id).where(CustomFieldDefinition.key == key)
            if session.scalar(found.limit(1)) is None:
                raise InvalidInput("columns", f"no custom field {key!r}")
        elif column not in COLUMNS:
            raise InvalidInput(
                "columns", f"unknown column {column!r}; known: {', '.join(COLUMNS)}, field:KEY"
            )
        checked.append(column)
    return checked


def check_sort(sort: Sequence[str]) -> list[str]:
    """``column`` or ``-column`` (descending), each column once; none given: due, number."""
    if not sort:
        return list(DEFAULT_SORT)
    checked: list[str] = []
    for item in (s.strip() for s in sort):
        column = item.removeprefix("-")
        if column not in COLUMNS:
            raise InvalidInput("sort", f"cannot sort by {item!r}; by one of {', '.join(COLUMNS)}")
        if any(c.removeprefix("-") == column for c in checked):
            raise InvalidInput("sort", f"{column} is listed twice")
        checked.append(item)
    return checked


def columns_of(view: SavedView) -> list[str]:
    """The view's columns (stored as a comma list; empty: the default set)."""
    return view.columns.split(",") if view.columns else list(DEFAULT_COLUMNS)


def sort_of(view: SavedView) -> list[str]:
    """The view's sort keys (stored as a comma list; empty: due, number)."""
    return view.sort.split(",") if view.sort else list(DEFAULT_SORT)


def select_rows(
    session: Session,
    view: SavedView,
    *,
    scope: ColumnElement[bool],
    zone: ZoneInfo,
    now: dt.datetime,
    limit: int | None = None,
) -> ViewRows:
    """The view's rows among the tasks ``scope`` allows (the reader's rights), sorted."""
    columns = columns_of(view)
    where = (scope, view_clause(session, view, zone=zone, now=now))
    overdue = overdue_clause(now)
    query = (
        select(
            Task,
            Register.code,
            Employee.first_name,
            Employee.last_name,
            Customer.name,
            case((overdue, True), else_=False),
        )
        .join(Register, Register.id == Task.register_id)
        .join(Employee, Employee.id == Task.responsible_id)
        .outerjoin(Customer, Customer.id == Task.customer_id)
        .where(*where)
        .order_by(*_order(sort_of(view), overdue))
        .order_by(Task.number, Task.id)
        .limit(limit)
    )
    rows = [
        ViewRow(
            task_id=task.id,
            values=_values(task, code, f"{first} {last}", customer, bool(late)),
            overdue=bool(late),
        )
        for task, code, first, last, customer, late in session.execute(query)
    ]
    keys = [c.removeprefix(FIELD_PREFIX) for c in columns if c.startswith(FIELD_PREFIX)]
    if keys:
        _add_fields(session, rows, keys)
    total = len(rows)
    if limit is not None and total >= limit:
        total = session.scalar(select(func.count()).select_from(Task).where(*where)) or 0
    return ViewRows(
        name=view.name,
        columns=columns,
        field_labels=_labels(session, keys),
        rows=[ViewRow(r.task_id, {c: r.values.get(c) for c in columns}, r.overdue) for r in rows],
        total=total,
    )


def _when(value: dt.datetime | None, all_day: bool) -> dt.datetime | dt.date | None:
    return value.date() if value is not None and all_day else value


def _values(
    task: Task, register: str, responsible: str, customer: str | None, overdue: bool
) -> dict[str, Any]:
    return {
        "number": task.number,
        "register": register,
        "subject": task.subject,
        "status": TaskStatus(task.status).value,
        "priority": Priority(task.priority).value,
        "planned_start": _when(task.planned_start, task.all_day),
        "due": _when(task.due, task.all_day),
        "completed_at": task.completed_at,
        "responsible": responsible,
        "customer": customer,
        "categories": task.categories or None,
        "opportunity_value": task.opportunity_value,
        "overdue": overdue,
    }


def _order(sort: Sequence[str], overdue: ColumnElement[bool]) -> list[Any]:
    """Each sort key with empty values last, whichever the direction."""
    lifecycle = {status.value: rank for rank, status in enumerate(TaskStatus)}
    urgency = {priority.value: rank for rank, priority in enumerate(Priority)}
    expressions: dict[str, list[Any]] = {
        "number": [Task.number],
        "register": [Register.code],
        "subject": [Task.subject],
        "status": [case(lifecycle, value=Task.status)],
        "priority": [case(urgency, value=Task.priority)],
        "planned_start": [Task.planned_start],
        "due": [Task.due],
        "completed_at": [Task.completed_at],
        "responsible": [Employee.last_name, Employee.first_name],
        "customer": [Customer.name],
        "categories": [func.nullif(Task.categories, "")],
        "opportunity_value": [Task.opportunity_value],
        "overdue": [case((overdue, 1), else_=0)],
    }
    order: list[Any] = []
    for item in sort:
        descending = item.startswith("-")
        for expression in expressions[item.removeprefix("-")]:
            order += [expression.is_(None), expression.desc() if descending else expression]
    return order


def _add_fields(session: Session, rows: list[ViewRow], keys: list[str]) -> None:
    """The custom field values of the rows, a few hundred tasks per query."""
    by_id = {row.task_id: row for row in rows}
    ids = list(by_id)
    for start in range(0, len(ids), _CHUNK):
        found = session.execute(
            select(
                CustomFieldValue.task_id,
                CustomFieldDefinition.key,
                CustomFieldValue.value_number,
                CustomFieldValue.value_date,
                CustomFieldValue.value_bool,
                CustomFieldValue.value_text,
            )
            .join(CustomFieldDefinition, CustomFieldDefinition.id == CustomFieldValue.field_id)
            .where(
                CustomFieldDefinition.key.in_(keys),
                CustomFieldValue.task_id.in_(ids[start : start + _CHUNK]),
            )
        )
        for task_id, key, *stored in found:
            value = next((v for v in stored if v is not None), None)
            by_id[task_id].values[FIELD_PREFIX + key] = value


def _labels(session: Session, keys: list[str]) -> dict[str, str]:
    if not keys:
        return {}
    rows = session.execute(
        select(CustomFieldDefinition.key, CustomFieldDefinition.label)
        .where(CustomFieldDefinition.key.in_(keys))
        .order_by(CustomFieldDefinition.id.desc())
    )
    return {key: label for key, label in rows}  # the oldest definition's label comes last
