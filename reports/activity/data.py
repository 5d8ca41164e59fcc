"""The counts behind the activity report, per rep and ISO week, aggregated in SQL.

Each measure is one grouped query; the week a row falls in is a CASE over the weeks' UTC
bounds (computed in the reader's zone), so no database needs to know about time zones.

What counts (only tasks the reader may see; with a register, only that register's tasks):

- *created*: tasks the rep created; *completed*: done tasks of the rep, by completion time;
- *notes*: notes the rep wrote, on any task;
- *e-mails in*: messages from outside the staff that became items of the rep's tasks, and
  *e-mails out*: messages the rep's tasks sent to outside addresses (from the Message-ID thread
  index, which outlives the outbox's purge). Mail between colleagues is not customer contact;
- *customers contacted*: distinct customers of the tasks behind those notes and e-mails;
- *overdue*: the rep's tasks that were overdue at the end of the week (for the current week:
  now) — due passed and not completed by then. Cancelled tasks never count: when they were
  cancelled is not recorded on the task.

"The rep's tasks" are those the rep is responsible for now.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    FromClause,
    and_,
    case,
    distinct,
    func,
    join,
    or_,
    select,
    union,
)

from hermes_groupware.models import (
    Employee,
    InboundMessage,
    MailThreadEntry,
    Task,
    TaskItem,
    group_members,
)
from hermes_groupware.models.enums import (
    OPEN_STATUSES,
    ItemKind,
    MailDirection,
    TaskStatus,
)
from hermes_groupware.services.view_filter import due_passed
from reports import common
from reports.model import ReportContext

#: the measures counted per rep and week, in table order
MEASURES = ("created", "completed", "overdue", "notes", "mails_in", "mails_out", "customers")


class Weeks:
    """The last ``count`` ISO weeks of the reader's zone, the current one included."""

    def __init__(self, today: dt.date, count: int, zone: ZoneInfo) -> None:
        first = common.monday(today) - dt.timedelta(weeks=count - 1)
        starts = [first + dt.timedelta(weeks=i) for i in range(count + 1)]
        self.mondays = starts[:-1]
        #: where each week begins in UTC, and where the last one ends
        self.bounds = [common.local_start(day, zone) for day in starts]

    def index(self, at: Any) -> ColumnElement[int]:
        """Which week (0 = the oldest) a timestamp column falls in."""
        return case(*((at < end, i) for i, end in enumerate(self.bounds[1:])), else_=-1)

    def contains(self, at: Any) -> ColumnElement[bool]:
        """The timestamp falls within the weeks."""
        return and_(at >= self.bounds[0], at < self.bounds[-1])


@dataclass(frozen=True)
class Filters:
    """The optional register and group (the rep must be a member) of the report."""

    register_id: int | None = None
    group_id: int | None = None


@dataclass(frozen=True)
class _Measure:
    """Who (``rep``), when (``at``) and what is counted, from which tables, under which rule."""

    rep: Any
    at: Any
    counted: Any
    source: FromClause
    where: tuple[ColumnElement[bool], ...] = ()


def _outside(address: Any) -> ColumnElement[bool]:
    """An address that is not an employee's (case-insensitive)."""
    staff = select(func.lower(Employee.email)).where(Employee.email.is_not(None))
    return func.lower(address).not_in(staff)


_ITEMS = join(TaskItem, Task, TaskItem.task_id == Task.id)
_NOTES = _Measure(
    TaskItem.author_id, TaskItem.created_at, TaskItem.id, _ITEMS, (TaskItem.kind == ItemKind.NOTE,)
)
_MAILS_IN = _Measure(
    Task.responsible_id,
    TaskItem.created_at,
    TaskItem.inbound_message_id,
    _ITEMS.join(InboundMessage, TaskItem.inbound_message_id == InboundMessage.id),
    (or_(InboundMessage.sender_address.is_(None), _outside(InboundMessage.sender_address)),),
)
_MAILS_OUT = _Measure(
    Task.responsible_id,
    MailThreadEntry.created_at,
    MailThreadEntry.id,
    join(MailThreadEntry, Task, MailThreadEntry.task_id == Task.id),
    (MailThreadEntry.direction == MailDirection.SENT, _outside(MailThreadEntry.recipient)),
)
_COUNTED = {
    "created": _Measure(Task.creator_id, Task.created_at, Task.id, Task.__table__),
    "completed": _Measure(
        Task.responsible_id,
        Task.completed_at,
        Task.id,
        Task.__table__,
        (Task.status == TaskStatus.DONE,),
    ),
    "notes": _NOTES,
    "mails_in": _MAILS_IN,
    "mails_out": _MAILS_OUT,
}


@dataclass(frozen=True)
class Activity:
    """Every measure per (rep, week index), zero counts left out, and who contacted whom."""

    counts: dict[str, Counter[tuple[int, int]]]
    #: distinct ((rep, week), customer) behind the "customers contacted" counts
    contacts: set[tuple[tuple[int, int], int]]


def _narrowed(ctx: ReportContext, filters: Filters, rep: Any) -> list[ColumnElement[bool]]:
    """The reader's tasks, the report's register, and reps of the report's group."""
    clauses = [ctx.scope, rep.is_not(None)]
    if filters.register_id is not None:
        clauses.append(Task.register_id == filters.register_id)
    if filters.group_id is not None:
        members = select(group_members.c.employee_id).where(
            group_members.c.group_id == filters.group_id
        )
        clauses.append(rep.in_(members))
    return clauses


def gather(ctx: ReportContext, weeks: Weeks, filters: Filters) -> Activity:
    """All measures: one grouped query each, plus one for the customers contacted."""
    session = ctx.uow.session
    counts: dict[str, Counter[tuple[int, int]]] = {}
    for name, m in _COUNTED.items():
        week = weeks.index(m.at)
        query = (
            select(m.rep, week, func.count(distinct(m.counted)))
            .select_from(m.source)
            .where(*_narrowed(ctx, filters, m.rep), weeks.contains(m.at), *m.where)
            .group_by(m.rep, week)
        )
        counts[name] = Counter({(rep, w): n for rep, w, n in session.execute(query)})
    counts["overdue"] = _overdue(ctx, weeks, filters)
    contacts = _contacted(ctx, weeks, filters)
    counts["customers"] = Counter(rep_week for rep_week, _customer in contacts)
    return Activity(counts, contacts)


def _contacted(
    ctx: ReportContext, weeks: Weeks, filters: Filters
) -> set[tuple[tuple[int, int], int]]:
    parts = [
        select(m.rep, weeks.index(m.at), Task.customer_id)
        .select_from(m.source)
        .where(
            *_narrowed(ctx, filters, m.rep),
            weeks.contains(m.at),
            *m.where,
            Task.customer_id.is_not(None),
        )
        for m in (_NOTES, _MAILS_IN, _MAILS_OUT)
    ]
    rows = ctx.uow.session.execute(union(*parts))
    return {((rep, week), customer) for rep, week, customer in rows}


def _overdue(ctx: ReportContext, weeks: Weeks, filters: Filters) -> Counter[tuple[int, int]]:
    """Overdue tasks per rep at the end of each week (the current week: now), in one query."""
    cutoffs = [min(end, ctx.now) for end in weeks.bounds[1:]]
    query = (
        select(
            Task.responsible_id,
            *(func.sum(case((_overdue_at(cutoff), 1), else_=0)) for cutoff in cutoffs),
        )
        .where(
            *_narrowed(ctx, filters, Task.responsible_id),
            Task.due < ctx.now,
            or_(Task.status.in_(OPEN_STATUSES), Task.completed_at >= weeks.bounds[0]),
        )
        .group_by(Task.responsible_id)
    )
    counts: Counter[tuple[int, int]] = Counter()
    for rep, *per_week in ctx.uow.session.execute(query):
        counts.update({(rep, week): n for week, n in enumerate(per_week) if n})
    return counts


def _overdue_at(at: dt.datetime) -> ColumnElement[bool]:
    """Overdue at ``at``: existed, due passed, and still open then (open now or done later)."""
    return and_(
        Task.created_at < at,
        due_passed(at),
        or_(
            Task.status.in_(OPEN_STATUSES),
            and_(Task.status == TaskStatus.DONE, Task.completed_at > at),
        ),
    )


def members(ctx: ReportContext, filters: Filters) -> list[int]:
    """The active members of the report's group (listed even without any activity)."""
    if filters.group_id is None:
        return []
    query = (
        select(Employee.id)
        .join(group_members, group_members.c.employee_id == Employee.id)
        .where(group_members.c.group_id == filters.group_id, Employee.is_active)
    )
    return list(ctx.uow.session.scalars(query))
