"""A saved view as a report: its rows, key figures, a register x status crosstab and a chart.

Used by ``view export`` and by schedules of a view. The reader must be allowed to use the view
(else NotFound, as for a missing one), and sees only the tasks of ``ctx.scope``; the view's
filter narrows that, it never widens it.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from hermes_groupware.errors import InvalidInput
from hermes_groupware.models import Register, SavedView, Task
from hermes_groupware.models.enums import Priority, ReportKind, TaskStatus
from hermes_groupware.services import saved_views
from hermes_groupware.services.saved_views import ViewRow, ViewRows
from reports.common import bounded_int, optional_text, reject_unknown
from reports.model import Chart, Column, Figure, ReportContext, ReportResult, Row, Table, ValueKind

_LABELS = {
    "number": ("Numer", "Number"),
    "register": ("Rejestr", "Register"),
    "subject": ("Temat", "Subject"),
    "status": ("Status", "Status"),
    "priority": ("Priorytet", "Priority"),
    "planned_start": ("Planowany start", "Planned start"),
    "due": ("Termin", "Due"),
    "completed_at": ("Zakończono", "Completed"),
    "responsible": ("Odpowiedzialny", "Responsible"),
    "customer": ("Kontrahent", "Customer"),
    "categories": ("Kategorie", "Categories"),
    "opportunity_value": ("Wartość szansy", "Opportunity value"),
    "overdue": ("Po terminie", "Overdue"),
}
_STATUSES = {
    TaskStatus.NEW: ("nowe", "new"),
    TaskStatus.IN_PROGRESS: ("w toku", "in progress"),
    TaskStatus.WAITING: ("oczekuje", "waiting"),
    TaskStatus.DONE: ("zakończone", "done"),
    TaskStatus.CANCELLED: ("anulowane", "cancelled"),
}
_PRIORITIES = {
    Priority.HIGH: ("wysoki", "high"),
    Priority.NORMAL: ("normalny", "normal"),
    Priority.LOW: ("niski", "low"),
}
#: all-day dates stay dates in a "datetime" column: the formats lay a value out by its type
_KINDS: dict[str, ValueKind] = {
    "planned_start": "datetime",
    "due": "datetime",
    "completed_at": "datetime",
    "opportunity_value": "money",
}


def check_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """``view`` (a saved view's name) and an optional row ``limit``."""
    reject_unknown(params, ("view", "limit"))
    name = optional_text(params, "view")
    if name is None:
        raise InvalidInput("params.view", "the name of a saved view")
    checked: dict[str, Any] = {"view": name}
    if params.get("limit") is not None:
        checked["limit"] = bounded_int(params, "limit", default=1, low=1, high=1_000_000)
    return checked


def build(ctx: ReportContext) -> ReportResult:
    """The view's rows as the reader may see them, with counts over all of them."""
    session = ctx.uow.session
    view = saved_views.usable_view(session, ctx.uow.actor, ctx.params["view"])
    rows = saved_views.select_rows(
        session, view, scope=ctx.scope, zone=ctx.zone, now=ctx.now, limit=ctx.params.get("limit")
    )
    counts = _counts(ctx, view)
    result = ReportResult(
        kind=ReportKind.VIEW,
        locale=ctx.locale,
        title=ctx.text(f"Widok: {view.name}", f"View: {view.name}"),
        period=ctx.text("Stan na", "As of") + f" {ctx.now.astimezone(ctx.zone):%Y-%m-%d %H:%M}",
        generated_at=ctx.now,
        time_zone=ctx.zone.key,
        figures=[
            Figure(ctx.text("Zadania", "Tasks"), sum(counts.values())),
            Figure(ctx.text("Po terminie", "Overdue"), _overdue_count(ctx, view)),
        ],
        tables=[_table(ctx, view, rows)],
    )
    if counts:
        result.crosstab = _crosstab(ctx, counts)
        result.chart = _chart(ctx, counts)
    return result


def _where(ctx: ReportContext, view: SavedView) -> tuple[Any, ...]:
    clause = saved_views.view_clause(ctx.uow.session, view, zone=ctx.zone, now=ctx.now)
    return ctx.scope, clause


def _counts(ctx: ReportContext, view: SavedView) -> dict[tuple[str, TaskStatus], int]:
    """Tasks per (register code, status), over every row of the view (not just a limit)."""
    query = (
        select(Register.code, Task.status, func.count())
        .join(Register, Register.id == Task.register_id)
        .where(*_where(ctx, view))
        .group_by(Register.code, Task.status)
    )
    return {
        (code, TaskStatus(status)): count for code, status, count in ctx.uow.session.execute(query)
    }


def _overdue_count(ctx: ReportContext, view: SavedView) -> int:
    query = (
        select(func.count())
        .select_from(Task)
        .where(*_where(ctx, view), saved_views.overdue_clause(ctx.now))
    )
    return ctx.uow.session.scalar(query) or 0


def _table(ctx: ReportContext, view: SavedView, rows: ViewRows) -> Table:
    columns = tuple(_column(ctx, key, rows) for key in rows.columns)
    return Table(
        title=view.description or view.name,
        columns=columns,
        rows=[Row(_readable(ctx, row), overdue=row.overdue) for row in rows.rows],
    )


def _column(ctx: ReportContext, key: str, rows: ViewRows) -> Column:
    field = key.removeprefix(saved_views.FIELD_PREFIX)
    if field != key:
        numeric = any(isinstance(row.values.get(key), Decimal) for row in rows.rows)
        return Column(key, rows.field_labels.get(field, field), "decimal" if numeric else "text")
    return Column(key, ctx.text(*_LABELS[key]), _KINDS.get(key, "text"))


def _readable(ctx: ReportContext, row: ViewRow) -> dict[str, Any]:
    """Codes into words of the reader's language; dates and amounts stay typed."""
    values = dict(row.values)
    if "status" in values:
        values["status"] = ctx.text(*_STATUSES[TaskStatus(values["status"])])
    if "priority" in values:
        values["priority"] = ctx.text(*_PRIORITIES[Priority(values["priority"])])
    for key, value in values.items():
        if isinstance(value, bool):
            values[key] = ctx.text("tak", "yes") if value else ctx.text("nie", "no")
    return values


def _statuses(counts: Mapping[tuple[str, TaskStatus], int]) -> list[TaskStatus]:
    """The statuses that occur, in their life-cycle order."""
    present = {status for _, status in counts}
    return [status for status in TaskStatus if status in present]


def _crosstab(ctx: ReportContext, counts: Mapping[tuple[str, TaskStatus], int]) -> Table:
    statuses = _statuses(counts)
    codes = sorted({code for code, _ in counts})
    total = ctx.text("Razem", "Total")
    columns = (
        Column("register", ctx.text("Rejestr", "Register")),
        *(Column(s.value, ctx.text(*_STATUSES[s]), "int") for s in statuses),
        Column("total", total, "int"),
    )

    def line(label: str, pick: list[str], *, is_total: bool = False) -> Row:
        cells = {s.value: sum(counts.get((c, s), 0) for c in pick) for s in statuses}
        return Row({"register": label, **cells, "total": sum(cells.values())}, total=is_total)

    rows = [line(code, [code]) for code in codes]
    rows.append(line(total, codes, is_total=True))
    return Table(ctx.text("Rejestry i statusy", "Registers and statuses"), columns, rows)


def _chart(ctx: ReportContext, counts: Mapping[tuple[str, TaskStatus], int]) -> Chart:
    statuses = _statuses(counts)
    per_status = [
        float(sum(n for (_, s), n in counts.items() if s is status)) for status in statuses
    ]
    return Chart(
        title=ctx.text("Zadania według statusu", "Tasks by status"),
        categories=[ctx.text(*_STATUSES[s]) for s in statuses],
        series={ctx.text("Zadania", "Tasks"): per_status},
    )
