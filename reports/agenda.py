"""My day / my week: one employee's open tasks as a dashboard in the inbox.

The tasks are the ones the employee is responsible for or has been delegated (and the reader may
see). One employee has tens, at most hundreds of open tasks, so one query fetches them all and
the sections are sorted out here, in the reader's zone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from hermes_groupware.errors import InvalidInput
from hermes_groupware.models import Customer, Employee, Register, Task
from hermes_groupware.models.enums import OPEN_STATUSES, Locale, ReportKind
from hermes_groupware.services import access
from hermes_groupware.services.lookups import employee_by_login
from hermes_groupware.services.saved_views import overdue_clause
from reports.common import (
    choice,
    days_overdue,
    local_date,
    monday,
    optional_text,
    reject_unknown,
)
from reports.model import Column, Figure, ReportContext, ReportResult, Row, Table

PERIODS = ("day", "week")
_WEEKDAYS = {
    Locale.PL: ("poniedziałek", "wtorek", "środa", "czwartek", "piątek", "sobota", "niedziela"),
    Locale.EN: ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}


def check_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """``period`` day (default) or week; ``employee`` a login (default: the reader)."""
    reject_unknown(params, ("period", "employee"))
    checked: dict[str, Any] = {"period": choice(params, "period", PERIODS, "day")}
    employee = optional_text(params, "employee")
    if employee is not None:
        checked["employee"] = employee
    return checked


@dataclass(frozen=True)
class _Open:
    """One open task of the employee."""

    number: str
    subject: str
    register: str
    customer: str | None
    start: dt.datetime | None
    due: dt.datetime | None
    all_day: bool
    overdue: bool


@dataclass(frozen=True)
class _Entry:
    """A task on a day of the period: it starts or is due then."""

    day: dt.date
    time: dt.time | None
    is_due: bool
    task: _Open


def build(ctx: ReportContext) -> ReportResult:
    """The agenda of ``params.employee`` (or the reader) for today or this week."""
    employee = _employee(ctx)
    week = ctx.params.get("period") == "week"
    first = monday(ctx.today()) if week else ctx.today()
    last = first + dt.timedelta(days=6 if week else 0)
    tasks = _fetch(ctx, employee.id)
    overdue = [t for t in tasks if t.overdue]
    entries = sorted(
        (e for t in tasks if not t.overdue and (e := _entry(ctx, t, first, last))),
        key=lambda e: (e.day, e.time is not None, e.time or dt.time(), e.task.number),
    )
    due_in_period = [e for e in entries if e.is_due]
    if week:
        plan, due_label = (
            ctx.text("Plan tygodnia", "Week plan"),
            ctx.text("Termin w tym tygodniu", "Due this week"),
        )
    else:
        plan, due_label = ctx.text("Plan dnia", "Day plan"), ctx.text("Termin dziś", "Due today")
    return ReportResult(
        kind=ReportKind.AGENDA,
        locale=ctx.locale,
        title=f"{plan}: {employee.full_name}",
        period=_period(ctx, first, last),
        generated_at=ctx.now,
        time_zone=ctx.zone.key,
        figures=[
            Figure(ctx.text("Otwarte zadania", "Open tasks"), len(tasks)),
            Figure(ctx.text("Zaległe", "Overdue"), len(overdue)),
            Figure(due_label, len(due_in_period)),
            Figure(
                ctx.text("Otwarte bez daty", "Open without a date"),
                sum(t.start is None and t.due is None for t in tasks),
            ),
        ],
        tables=[_overdue_table(ctx, overdue), _agenda_table(ctx, entries, week=week)],
    )


def _employee(ctx: ReportContext) -> Employee:
    session = ctx.uow.session
    if "employee" in ctx.params:
        return employee_by_login(session, ctx.params["employee"], field="params.employee")
    if ctx.uow.actor.employee_id is None:
        raise InvalidInput("params.employee", "whose agenda: needed when no employee reads it")
    return session.get_one(Employee, ctx.uow.actor.employee_id)


def _fetch(ctx: ReportContext, employee_id: int) -> list[_Open]:
    """The employee's open tasks the reader may see, by due date."""
    overdue = overdue_clause(ctx.now)
    query = (
        select(
            Task.number,
            Task.subject,
            Register.code,
            Customer.name.label("customer"),
            Task.planned_start,
            Task.due,
            Task.all_day,
            overdue.label("overdue"),
        )
        .join(Register, Register.id == Task.register_id)
        .outerjoin(Customer, Customer.id == Task.customer_id)
        .where(ctx.scope, Task.status.in_(OPEN_STATUSES), access.assigned_to(employee_id))
        .order_by(Task.due.is_(None), Task.due, Task.number)
    )
    return [
        _Open(
            number=row.number,
            subject=row.subject,
            register=row.code,
            customer=row.customer,
            start=row.planned_start,
            due=row.due,
            all_day=row.all_day,
            overdue=bool(row.overdue),
        )
        for row in ctx.uow.session.execute(query)
    ]


def _entry(ctx: ReportContext, task: _Open, first: dt.date, last: dt.date) -> _Entry | None:
    """Where a task that is not overdue lands: on its due day when that is by the end of the
    period, else on its start day when that is in the period; never before the first day."""
    for moment, is_due in ((task.due, True), (task.start, False)):
        if moment is None:
            continue
        day = local_date(moment, task.all_day, ctx.zone)
        if day <= last and (is_due or day >= first):
            time = None if task.all_day else moment.astimezone(ctx.zone).time()
            return _Entry(max(day, first), time, is_due, task)
    return None


def _period(ctx: ReportContext, first: dt.date, last: dt.date) -> str:
    if first == last:
        weekday = _WEEKDAYS[ctx.locale][first.weekday()]
        return ctx.text(f"Dzień {first:%Y-%m-%d} ({weekday})", f"Day {first:%Y-%m-%d} ({weekday})")
    return ctx.text(
        f"Tydzień {first:%Y-%m-%d} – {last:%Y-%m-%d}", f"Week {first:%Y-%m-%d} – {last:%Y-%m-%d}"
    )


def _task_columns(ctx: ReportContext) -> tuple[Column, ...]:
    return (
        Column("number", ctx.text("Numer", "Number")),
        Column("subject", ctx.text("Temat", "Subject")),
        Column("register", ctx.text("Rejestr", "Register")),
        Column("customer", ctx.text("Kontrahent", "Customer")),
    )


def _task_values(task: _Open) -> dict[str, Any]:
    return {
        "number": task.number,
        "subject": task.subject,
        "register": task.register,
        "customer": task.customer,
    }


def _overdue_table(ctx: ReportContext, tasks: list[_Open]) -> Table:
    today = ctx.today()
    rows = []
    for task in tasks:
        assert task.due is not None  # overdue means a due date
        due = local_date(task.due, task.all_day, ctx.zone)
        values = _task_values(task) | {"due": due, "days_overdue": days_overdue(due, today)}
        rows.append(Row(values, overdue=True))
    columns = (
        *_task_columns(ctx),
        Column("due", ctx.text("Termin", "Due"), "date"),
        Column("days_overdue", ctx.text("Dni po terminie", "Days overdue"), "int"),
    )
    return Table(ctx.text("Zaległe", "Overdue"), columns, rows)


def _agenda_table(ctx: ReportContext, entries: list[_Entry], *, week: bool) -> Table:
    all_day = ctx.text("cały dzień", "all day")
    rows = [
        Row(
            {
                "date": e.day,
                "weekday": _WEEKDAYS[ctx.locale][e.day.weekday()],
                "time": all_day if e.time is None else f"{e.time:%H:%M}",
                "what": ctx.text("termin", "due") if e.is_due else ctx.text("początek", "start"),
            }
            | _task_values(e.task)
        )
        for e in entries
    ]
    columns = (
        Column("date", ctx.text("Data", "Date"), "date"),
        Column("weekday", ctx.text("Dzień", "Day")),
        Column("time", ctx.text("Godzina", "Time")),
        Column("what", ctx.text("Co", "What")),
        *_task_columns(ctx),
    )
    title = ctx.text("W tym tygodniu", "This week") if week else ctx.text("Dziś", "Today")
    return Table(title, columns, rows)
