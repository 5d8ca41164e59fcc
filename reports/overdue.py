"""Overdue and due this week, per employee and register: what a manager chases on Monday.

One query fetches the open tasks due by Sunday (overdue ones included) with the overdue rule
evaluated in SQL; the per-employee, per-register and crosstab counts are summed from those rows,
which the listing needs anyway, so a second pass over the tasks would only cost time.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, select

from hermes_groupware.models import Customer, Register, Task, group_members
from hermes_groupware.models.enums import OPEN_STATUSES, ReportKind
from hermes_groupware.services.lookups import employee_by_login, group_by_slug, register_by_code
from hermes_groupware.services.saved_views import overdue_clause
from reports.common import (
    days_overdue,
    employee_names,
    local_date,
    monday,
    on_or_before,
    optional_text,
    reject_unknown,
)
from reports.model import Chart, Column, Figure, ReportContext, ReportResult, Row, Table

PARAMS = ("register", "group", "assignee")
#: what rows are counted by: (name, id) for employees, (code, name) for registers
_Key = tuple[Any, ...]


def check_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """Optional filters: register code, group slug (responsible in the group), assignee login."""
    reject_unknown(params, PARAMS)
    values = {key: optional_text(params, key) for key in PARAMS}
    if values["register"]:
        values["register"] = values["register"].upper()
    return {key: value for key, value in values.items() if value is not None}


@dataclass(frozen=True)
class _Due:
    """One open task due by Sunday."""

    number: str
    subject: str
    register: str
    register_name: str
    employee_id: int
    employee: str
    customer: str | None
    due: dt.date
    overdue: bool
    days_overdue: int | None


def build(ctx: ReportContext) -> ReportResult:
    """The reader's overdue tasks and tasks due this week, with counts and a chart."""
    first = monday(ctx.today())
    last = first + dt.timedelta(days=6)
    tasks = _fetch(ctx, last)
    by_employee = _count(tasks, lambda t: (t.employee, t.employee_id))
    by_register = _count(tasks, lambda t: (t.register, t.register_name))
    overdue = sum(t.overdue for t in tasks)
    return ReportResult(
        kind=ReportKind.OVERDUE,
        locale=ctx.locale,
        title=_title(ctx),
        period=ctx.text(
            f"Stan na {ctx.today():%Y-%m-%d}; tydzień {first:%Y-%m-%d} – {last:%Y-%m-%d}",
            f"As of {ctx.today():%Y-%m-%d}; week {first:%Y-%m-%d} – {last:%Y-%m-%d}",
        ),
        generated_at=ctx.now,
        time_zone=ctx.zone.key,
        figures=[
            Figure(ctx.text("Zaległe", "Overdue"), overdue),
            Figure(ctx.text("Termin w tym tygodniu", "Due this week"), len(tasks) - overdue),
        ],
        tables=[
            _task_table(ctx, tasks),
            _count_table(
                ctx,
                ctx.text("Według pracownika", "Per employee"),
                (Column("employee", ctx.text("Pracownik", "Employee")),),
                [((name,), counts) for (name, _id), counts in by_employee.items()],
            ),
            _count_table(
                ctx,
                ctx.text("Według rejestru", "Per register"),
                (
                    Column("register", ctx.text("Rejestr", "Register")),
                    Column("name", ctx.text("Nazwa", "Name")),
                ),
                list(by_register.items()),
            ),
        ],
        chart=_chart(ctx, by_employee),
        crosstab=_crosstab(ctx, tasks),
    )


def _filters(ctx: ReportContext) -> list[ColumnElement[bool]]:
    session, params = ctx.uow.session, ctx.params
    clauses: list[ColumnElement[bool]] = []
    if "register" in params:
        register = register_by_code(session, params["register"], field="params.register")
        clauses.append(Task.register_id == register.id)
    if "group" in params:
        group = group_by_slug(session, params["group"], field="params.group")
        members = select(group_members.c.employee_id).where(group_members.c.group_id == group.id)
        clauses.append(Task.responsible_id.in_(members))
    if "assignee" in params:
        employee = employee_by_login(session, params["assignee"], field="params.assignee")
        clauses.append(Task.responsible_id == employee.id)
    return clauses


def _fetch(ctx: ReportContext, sunday: dt.date) -> list[_Due]:
    """Open tasks due by Sunday that the reader may see, overdue first, then by due."""
    overdue = overdue_clause(ctx.now)
    query = (
        select(
            Task.number,
            Task.subject,
            Register.code,
            Register.name,
            Task.responsible_id,
            Customer.name.label("customer"),
            Task.due,
            Task.all_day,
            overdue.label("overdue"),
        )
        .join(Register, Register.id == Task.register_id)
        .outerjoin(Customer, Customer.id == Task.customer_id)
        .where(
            ctx.scope,
            Task.status.in_(OPEN_STATUSES),
            on_or_before(Task.due, sunday, ctx.zone),
            *_filters(ctx),
        )
        .order_by(overdue.desc(), Task.due, Task.number)
    )
    today = ctx.today()
    rows = ctx.uow.session.execute(query).all()
    names = employee_names(ctx.uow.session, (row.responsible_id for row in rows))
    tasks = []
    for row in rows:
        due = local_date(row.due, row.all_day, ctx.zone)
        tasks.append(
            _Due(
                number=row.number,
                subject=row.subject,
                register=row.code,
                register_name=row.name,
                employee_id=row.responsible_id,
                employee=names[row.responsible_id],
                customer=row.customer,
                due=due,
                overdue=bool(row.overdue),
                days_overdue=days_overdue(due, today) if row.overdue else None,
            )
        )
    return tasks


def _count(tasks: list[_Due], key: Callable[[_Due], _Key]) -> dict[_Key, tuple[int, int]]:
    """(overdue, due this week) per key, the most overdue first, then by key."""
    overdue = Counter(key(t) for t in tasks if t.overdue)
    this_week = Counter(key(t) for t in tasks if not t.overdue)
    keys = sorted(set(overdue) | set(this_week), key=lambda k: (-overdue[k], -this_week[k], k))
    return {k: (overdue[k], this_week[k]) for k in keys}


def _title(ctx: ReportContext) -> str:
    title = ctx.text("Zaległe i z terminem w tym tygodniu", "Overdue and due this week")
    names = {
        "register": ctx.text("rejestr", "register"),
        "group": ctx.text("grupa", "group"),
        "assignee": ctx.text("pracownik", "employee"),
    }
    filters = [f"{names[key]} {ctx.params[key]}" for key in PARAMS if key in ctx.params]
    return f"{title} ({', '.join(filters)})" if filters else title


def _task_table(ctx: ReportContext, tasks: list[_Due]) -> Table:
    columns = (
        Column("number", ctx.text("Numer", "Number")),
        Column("subject", ctx.text("Temat", "Subject")),
        Column("register", ctx.text("Rejestr", "Register")),
        Column("responsible", ctx.text("Odpowiedzialny", "Responsible")),
        Column("customer", ctx.text("Kontrahent", "Customer")),
        Column("due", ctx.text("Termin", "Due"), "date"),
        Column("days_overdue", ctx.text("Dni po terminie", "Days overdue"), "int"),
    )
    rows = [
        Row(
            {
                "number": t.number,
                "subject": t.subject,
                "register": t.register,
                "responsible": t.employee,
                "customer": t.customer,
                "due": t.due,
                "days_overdue": t.days_overdue,
            },
            overdue=t.overdue,
        )
        for t in tasks
    ]
    title = ctx.text(
        "Zadania zaległe i z terminem w tym tygodniu", "Tasks overdue or due this week"
    )
    return Table(title, columns, rows)


def _count_table(
    ctx: ReportContext,
    title: str,
    key_columns: tuple[Column, ...],
    counts: list[tuple[_Key, tuple[int, int]]],
) -> Table:
    """Overdue and due-this-week counts per key, with a total row when there is anything."""
    columns = (
        *key_columns,
        Column("overdue", ctx.text("Zaległe", "Overdue"), "int"),
        Column("due_week", ctx.text("Termin w tym tygodniu", "Due this week"), "int"),
    )
    names = [column.key for column in key_columns]

    def row(key: _Key, overdue: int, due_week: int, *, total: bool = False) -> Row:
        values = dict(zip(names, key, strict=False)) | {"overdue": overdue, "due_week": due_week}
        return Row(values, total=total)

    rows = [row(key, overdue, due_week) for key, (overdue, due_week) in counts]
    if rows:
        total = (ctx.text("Razem", "Total"),) + ("",) * (len(names) - 1)
        rows.append(
            row(total, sum(c[0] for _k, c in counts), sum(c[1] for _k, c in counts), total=True)
        )
    return Table(title, columns, rows)


def _chart(ctx: ReportContext, by_employee: dict[_Key, tuple[int, int]]) -> Chart | None:
    if not by_employee:
        return None
    return Chart(
        title=ctx.text("Zadania wg pracownika", "Tasks per employee"),
        categories=[name for name, _id in by_employee],
        series={
            ctx.text("Zaległe", "Overdue"): [float(c[0]) for c in by_employee.values()],
            ctx.text("Termin w tym tygodniu", "Due this week"): [
                float(c[1]) for c in by_employee.values()
            ],
        },
        kind="stacked",
    )


def _crosstab(ctx: ReportContext, tasks: list[_Due]) -> Table | None:
    """Overdue tasks per employee (rows) and register (columns), with totals both ways."""
    cells = Counter((t.employee, t.employee_id, t.register) for t in tasks if t.overdue)
    if not cells:
        return None
    registers = sorted({register for _name, _id, register in cells})
    people = _count([t for t in tasks if t.overdue], lambda t: (t.employee, t.employee_id))
    columns = (
        Column("employee", ctx.text("Pracownik", "Employee")),
        *(Column(code, code, "int") for code in registers),
        Column("total", ctx.text("Razem", "Total"), "int"),
    )
    rows = [
        Row(
            {"employee": name}
            | {code: cells[(name, employee_id, code)] for code in registers}
            | {"total": overdue}
        )
        for (name, employee_id), (overdue, _week) in people.items()
    ]
    per_register = Counter(t.register for t in tasks if t.overdue)
    rows.append(
        Row(
            {"employee": ctx.text("Razem", "Total")}
            | {code: per_register[code] for code in registers}
            | {"total": per_register.total()},
            total=True,
        )
    )
    return Table(
        ctx.text("Zaległe: pracownik × rejestr", "Overdue: employee × register"), columns, rows
    )
