"""Complaints (REK) timeliness: how many are open, how old, how fast they are closed and which
missed the target ("a complaint is closed within 14 days of its creation").

Two queries: the open complaints and the ones completed in the window. Both are needed row by
row (the lists, the median), so the counts are taken from them rather than from a second scan.
Cancelled complaints are neither open nor closed in time: they count nowhere.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import select

from hermes_groupware.models import Customer, Task
from hermes_groupware.models.enums import OPEN_STATUSES, ReportKind, TaskStatus
from hermes_groupware.services.lookups import register_by_code
from hermes_groupware.services.saved_views import overdue_clause
from reports.common import (
    bounded_int,
    employee_names,
    local_date,
    optional_text,
    reject_unknown,
)
from reports.model import Chart, Column, Figure, ReportContext, ReportResult, Row, Table

#: age buckets of open complaints: (upper bound in whole days or None, label)
BUCKETS: tuple[tuple[int | None, str], ...] = (
    (7, "0–7"),
    (14, "8–14"),
    (30, "15–30"),
    (60, "31–60"),
    (None, ">60"),
)
_DAY_MICROSECONDS = Decimal(86_400_000_000)


def check_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """``register`` (default REK), ``target_days`` (default 14), ``days`` closed window (90)."""
    reject_unknown(params, ("register", "target_days", "days"))
    return {
        "register": (optional_text(params, "register") or "REK").upper(),
        "target_days": bounded_int(params, "target_days", default=14, low=1, high=365),
        "days": bounded_int(params, "days", default=90, low=1, high=3650),
    }


@dataclass(frozen=True)
class _Complaint:
    """An open complaint, or one completed in the window (``completed_at`` set)."""

    number: str
    subject: str
    customer: str | None
    responsible: str
    created_at: dt.datetime
    completed_at: dt.datetime | None
    due: dt.date | None
    overdue: bool

    def took(self, now: dt.datetime) -> dt.timedelta:
        """How long it was open: until completed, or until now."""
        return (self.completed_at or now) - self.created_at


def build(ctx: ReportContext) -> ReportResult:
    """Open count, ages, median time to close and breaches of the target."""
    register = register_by_code(ctx.uow.session, ctx.params["register"], field="params.register")
    target = dt.timedelta(days=ctx.params["target_days"])
    since = ctx.now - dt.timedelta(days=ctx.params["days"])
    open_, closed = _fetch(ctx, register.id, since)
    breaches = sorted(
        (c for c in open_ + closed if c.took(ctx.now) > target),
        key=lambda c: (-c.took(ctx.now), c.number),
    )
    median = statistics.median(_days(c.took(ctx.now)) for c in closed) if closed else None
    buckets = {c.number: _bucket(c.took(ctx.now)) for c in open_}
    ages = Counter(buckets.values())
    return ReportResult(
        kind=ReportKind.COMPLAINTS,
        locale=ctx.locale,
        title=ctx.text("Terminowość reklamacji", "Complaints timeliness") + f" ({register.code})",
        period=ctx.text(
            f"Stan na {ctx.today():%Y-%m-%d}; zamknięte od {since.astimezone(ctx.zone):%Y-%m-%d};"
            f" cel: {ctx.params['target_days']} dni",
            f"As of {ctx.today():%Y-%m-%d}; closed since {since.astimezone(ctx.zone):%Y-%m-%d};"
            f" target: {ctx.params['target_days']} days",
        ),
        generated_at=ctx.now,
        time_zone=ctx.zone.key,
        figures=[
            Figure(ctx.text("Otwarte", "Open"), len(open_)),
            Figure(
                ctx.text("Mediana dni do zamknięcia", "Median days to close"),
                None if median is None else _tenths(median),
                "decimal",
            ),
            Figure(ctx.text("Zamknięte w okresie", "Closed in the period"), len(closed)),
            Figure(ctx.text("Przekroczenia celu", "Target breaches"), len(breaches)),
        ],
        tables=[
            _bucket_table(ctx, ages),
            _open_table(ctx, open_),
            _breach_table(ctx, breaches),
        ],
        chart=_chart(ctx, ages) if ages else None,
        crosstab=_crosstab(ctx, open_, buckets) if ages else None,
    )


def _days(span: dt.timedelta) -> Decimal:
    """A span in days, exactly (a float would turn 22.25 into 22.2 when rounded)."""
    return Decimal(span // dt.timedelta(microseconds=1)) / _DAY_MICROSECONDS


def _tenths(days: Decimal) -> Decimal:
    """Days to one decimal, rounded half up as people round."""
    return days.quantize(Decimal("0.1"), ROUND_HALF_UP)


def _bucket(age: dt.timedelta) -> str:
    """The age bucket of a complaint open for ``age`` (whole days)."""
    return next(label for upper, label in BUCKETS if upper is None or age.days <= upper)


def _fetch(
    ctx: ReportContext, register_id: int, since: dt.datetime
) -> tuple[list[_Complaint], list[_Complaint]]:
    """Open complaints (oldest first) and those completed since ``since``, that the reader may
    see."""
    overdue = overdue_clause(ctx.now)
    base = (
        select(
            Task.number,
            Task.subject,
            Customer.name.label("customer"),
            Task.responsible_id,
            Task.created_at,
            Task.completed_at,
            Task.due,
            Task.all_day,
            overdue.label("overdue"),
        )
        .outerjoin(Customer, Customer.id == Task.customer_id)
        .where(ctx.scope, Task.register_id == register_id)
        .order_by(Task.created_at, Task.number)
    )
    session = ctx.uow.session
    open_rows = session.execute(base.where(Task.status.in_(OPEN_STATUSES))).all()
    closed_rows = session.execute(
        base.where(Task.status == TaskStatus.DONE, Task.completed_at >= since)
    ).all()
    names = employee_names(session, (r.responsible_id for r in (*open_rows, *closed_rows)))

    def complaint(row: Any, *, closed: bool) -> _Complaint:
        return _Complaint(
            number=row.number,
            subject=row.subject,
            customer=row.customer,
            responsible=names[row.responsible_id],
            created_at=row.created_at,
            completed_at=row.completed_at if closed else None,
            due=local_date(row.due, row.all_day, ctx.zone) if row.due else None,
            overdue=bool(row.overdue),
        )

    return (
        [complaint(row, closed=False) for row in open_rows],
        [complaint(row, closed=True) for row in closed_rows],
    )


def _bucket_table(ctx: ReportContext, counts: Counter[str]) -> Table:
    """Open complaints per age bucket; no rows at all when nothing is open."""
    columns = (
        Column("age", ctx.text("Wiek (dni)", "Age (days)")),
        Column("count", ctx.text("Liczba", "Count"), "int"),
    )
    rows = [Row({"age": label, "count": counts[label]}) for _upper, label in BUCKETS]
    rows.append(Row({"age": ctx.text("Razem", "Total"), "count": counts.total()}, total=True))
    title = ctx.text("Otwarte reklamacje według wieku", "Open complaints by age")
    return Table(title, columns, rows if counts else [])


def _complaint_columns(ctx: ReportContext) -> tuple[Column, ...]:
    return (
        Column("number", ctx.text("Numer", "Number")),
        Column("subject", ctx.text("Temat", "Subject")),
        Column("customer", ctx.text("Kontrahent", "Customer")),
        Column("responsible", ctx.text("Odpowiedzialny", "Responsible")),
        Column("created", ctx.text("Utworzona", "Created"), "date"),
    )


def _complaint_values(ctx: ReportContext, complaint: _Complaint) -> dict[str, Any]:
    return {
        "number": complaint.number,
        "subject": complaint.subject,
        "customer": complaint.customer,
        "responsible": complaint.responsible,
        "created": local_date(complaint.created_at, False, ctx.zone),
    }


def _open_table(ctx: ReportContext, complaints: list[_Complaint]) -> Table:
    """The open complaints, oldest first; overdue ones red (and marked for CSV readers)."""
    columns = (
        *_complaint_columns(ctx),
        Column("age_days", ctx.text("Wiek (dni)", "Age (days)"), "int"),
        Column("due", ctx.text("Termin", "Due"), "date"),
        Column("overdue", ctx.text("Po terminie", "Overdue")),
    )
    yes = ctx.text("tak", "yes")
    rows = [
        Row(
            _complaint_values(ctx, c)
            | {
                "age_days": c.took(ctx.now).days,
                "due": c.due,
                "overdue": yes if c.overdue else "",
            },
            overdue=c.overdue,
        )
        for c in complaints
    ]
    return Table(ctx.text("Otwarte reklamacje", "Open complaints"), columns, rows)


def _breach_table(ctx: ReportContext, complaints: list[_Complaint]) -> Table:
    """Complaints over the target, the longest first."""
    columns = (
        *_complaint_columns(ctx),
        Column("closed", ctx.text("Zamknięta", "Closed"), "date"),
        Column("days", ctx.text("Dni", "Days"), "decimal"),
        Column("state", ctx.text("Stan", "State")),
    )
    rows = [
        Row(
            _complaint_values(ctx, c)
            | {
                "closed": local_date(c.completed_at, False, ctx.zone) if c.completed_at else None,
                "days": _tenths(_days(c.took(ctx.now))),
                "state": ctx.text("zamknięta", "closed")
                if c.completed_at
                else ctx.text("otwarta", "open"),
            },
            overdue=c.overdue,
        )
        for c in complaints
    ]
    return Table(ctx.text("Przekroczenia celu", "Target breaches"), columns, rows)


def _chart(ctx: ReportContext, counts: Counter[str]) -> Chart:
    return Chart(
        title=ctx.text("Otwarte reklamacje według wieku (dni)", "Open complaints by age (days)"),
        categories=[label for _upper, label in BUCKETS],
        series={ctx.text("Otwarte", "Open"): [float(counts[label]) for _u, label in BUCKETS]},
    )


def _crosstab(ctx: ReportContext, complaints: list[_Complaint], buckets: dict[str, str]) -> Table:
    """Open complaints per responsible (most first) and age bucket, with totals both ways."""
    cells = Counter((c.responsible, buckets[c.number]) for c in complaints)
    people = Counter(c.responsible for c in complaints)
    labels = [label for _upper, label in BUCKETS]
    columns = (
        Column("responsible", ctx.text("Odpowiedzialny", "Responsible")),
        *(Column(label, label, "int") for label in labels),
        Column("total", ctx.text("Razem", "Total"), "int"),
    )
    rows = [
        Row(
            {"responsible": person}
            | {label: cells[(person, label)] for label in labels}
            | {"total": count}
        )
        for person, count in sorted(people.items(), key=lambda p: (-p[1], p[0]))
    ]
    per_bucket = Counter(buckets.values())
    rows.append(
        Row(
            {"responsible": ctx.text("Razem", "Total")}
            | {label: per_bucket[label] for label in labels}
            | {"total": len(complaints)},
            total=True,
        )
    )
    title = ctx.text("Otwarte: odpowiedzialny × wiek (dni)", "Open: responsible × age (days)")
    return Table(title, columns, rows)
