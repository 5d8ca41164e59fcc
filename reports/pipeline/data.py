"""The open opportunities a reader may see, now and as they stood a week ago.

The week-ago state is rebuilt from ``task_history``: a field's value at ``when`` is the old value
of its first change after ``when``, or its current value when it has not changed since; a task
created after ``when`` did not exist yet. That is two queries (the candidate tasks and their
history since ``when``) folded in Python, however many opportunities there are.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, or_, select

from hermes_groupware.models import Task, TaskHistory
from hermes_groupware.models.enums import OPEN_STATUSES, TaskStatus
from reports.model import ReportContext

#: the history fields that decide whether a task was an open opportunity, whose and how big
_FIELDS = {
    "status": "status",
    "responsible_id": "responsible_id",
    "register_id": "register_id",
    "opportunity_value": "value",
    "opportunity_probability": "probability",
    "opportunity_stage": "stage",
    "opportunity_expected_close": "close",
}
_CREATED = "created"
_CLOSED = {TaskStatus.DONE.value, TaskStatus.CANCELLED.value}


@dataclass(frozen=True)
class Filters:
    """The report's optional narrowing: one register, one responsible employee."""

    register_id: int | None = None
    responsible_id: int | None = None


@dataclass(frozen=True)
class Opportunity:
    """A task's opportunity fields; a probability never set weighs nothing (counts as 0 %)."""

    task_id: int
    status: str
    responsible_id: int
    register_id: int
    value: Decimal | None
    probability: int | None
    stage: str | None
    close: dt.date | None

    @property
    def is_open(self) -> bool:
        """Not done or cancelled, and with a value: what the pipeline is made of."""
        return self.status not in _CLOSED and self.value is not None

    @property
    def weighted(self) -> Decimal:
        """The value times the probability (unrounded; sums are rounded once)."""
        return (self.value or Decimal(0)) * (self.probability or 0) / 100

    def matches(self, filters: Filters) -> bool:
        """Inside the report's register and responsible filters."""
        in_register = filters.register_id in (None, self.register_id)
        return in_register and filters.responsible_id in (None, self.responsible_id)


#: the columns an :class:`Opportunity` is made of, in its field order
_COLUMNS = (
    Task.id,
    Task.status,
    Task.responsible_id,
    Task.register_id,
    Task.opportunity_value,
    Task.opportunity_probability,
    Task.opportunity_stage,
    Task.opportunity_expected_close,
)


def _open_now() -> ColumnElement[bool]:
    return Task.status.in_(OPEN_STATUSES) & Task.opportunity_value.is_not(None)


def current(ctx: ReportContext, filters: Filters) -> list[Opportunity]:
    """The open opportunities as they are now."""
    query = select(*_COLUMNS).where(ctx.scope, _open_now())
    if filters.register_id is not None:
        query = query.where(Task.register_id == filters.register_id)
    if filters.responsible_id is not None:
        query = query.where(Task.responsible_id == filters.responsible_id)
    return [Opportunity(*row) for row in ctx.uow.session.execute(query)]


def as_of(ctx: ReportContext, filters: Filters, when: dt.datetime) -> list[Opportunity]:
    """The open opportunities as they stood at ``when`` (among the tasks the reader sees now)."""
    session = ctx.uow.session
    changed = select(TaskHistory.task_id).where(
        TaskHistory.changed_at > when, TaskHistory.field.in_(_FIELDS)
    )
    candidates = select(*_COLUMNS).where(
        ctx.scope, Task.created_at <= when, or_(_open_now(), Task.id.in_(changed))
    )
    tasks = {row[0]: Opportunity(*row) for row in session.execute(candidates)}
    history = session.execute(
        select(TaskHistory.task_id, TaskHistory.field, TaskHistory.old_value)
        .where(
            TaskHistory.changed_at > when,
            TaskHistory.field.in_([*_FIELDS, _CREATED]),
            TaskHistory.task_id.in_(candidates.with_only_columns(Task.id)),
        )
        .order_by(TaskHistory.changed_at, TaskHistory.id)
    )
    earlier = _first_old_values(history)
    past = []
    for task_id, opportunity in tasks.items():
        old = earlier.get(task_id, {})
        if _CREATED in old:
            continue
        then = replace(opportunity, **{_FIELDS[f]: _parse(f, v) for f, v in old.items()})
        if then.is_open and then.matches(filters):
            past.append(then)
    return past


def _first_old_values(rows: Iterable[Any]) -> dict[int, dict[str, str | None]]:
    """Per task and field the old value of the first change (rows come oldest first)."""
    first: dict[int, dict[str, str | None]] = {}
    for task_id, field, old_value in rows:
        first.setdefault(task_id, {}).setdefault(field, old_value)
    return first


def _parse(field: str, text: str | None) -> Any:
    """A history text back into the column's type (the triggers store values as text)."""
    if text is None or field in ("status", "opportunity_stage"):
        return text
    if field == "opportunity_value":
        return Decimal(text)
    if field == "opportunity_expected_close":
        return dt.date.fromisoformat(text[:10])
    return int(text)
