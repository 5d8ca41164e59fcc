"""The pipeline's tables, chart and crosstab from lists of opportunities (no queries here)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from reports import common
from reports.model import Chart, Column, ReportContext, Row, Table
from reports.pipeline.data import Opportunity

_CENT = Decimal("0.01")
_LATER, _NO_DATE, _TOTAL = "later", "none", "total"


@dataclass
class Sum:
    """Count, value and weighted value of a group of opportunities."""

    count: int = 0
    value: Decimal = Decimal(0)
    exact_weighted: Decimal = Decimal(0)

    def add(self, opportunity: Opportunity) -> None:
        self.count += 1
        self.value += opportunity.value or Decimal(0)
        self.exact_weighted += opportunity.weighted

    @property
    def weighted(self) -> Decimal:
        """Rounded to the cent once, after summing."""
        return self.exact_weighted.quantize(_CENT, ROUND_HALF_UP)


def _sums(
    opportunities: Iterable[Opportunity], key: Callable[[Opportunity], Any]
) -> dict[Any, Sum]:
    sums: dict[Any, Sum] = {}
    for opportunity in opportunities:
        sums.setdefault(key(opportunity), Sum()).add(opportunity)
    return sums


def sum_of(opportunities: Iterable[Opportunity]) -> Sum:
    """The whole list as one group."""
    return _sums(opportunities, lambda _o: None).get(None, Sum())


class Months:
    """The close-month buckets: ``YYYY-MM`` keys, ``later`` and ``none``."""

    def __init__(self, ctx: ReportContext, months: int) -> None:
        today = ctx.today()
        first = today.year * 12 + today.month - 1
        self.window = [f"{m // 12:04d}-{m % 12 + 1:02d}" for m in range(first, first + months)]
        self.ctx = ctx

    def key(self, opportunity: Opportunity) -> str:
        """The bucket an opportunity falls in."""
        if opportunity.close is None:
            return _NO_DATE
        month = f"{opportunity.close:%Y-%m}"
        return _LATER if month > self.window[-1] else month

    def ordered(self, keys: Iterable[str]) -> list[str]:
        """Passed months with opportunities, the whole window, then ``later`` and ``none``."""
        present = set(keys)
        passed = sorted(k for k in present if k not in (_LATER, _NO_DATE) and self.is_overdue(k))
        tail = [k for k in (_LATER, _NO_DATE) if k in present]
        return passed + self.window + tail

    def is_overdue(self, key: str) -> bool:
        """A close month that has passed while the opportunity is still open."""
        return key not in (_LATER, _NO_DATE) and key < self.window[0]

    def label(self, key: str) -> str:
        """What the reader sees for a bucket."""
        if key == _LATER:
            return self.ctx.text(f"po {self.window[-1]}", f"after {self.window[-1]}")
        if key == _NO_DATE:
            return self.ctx.text("bez daty", "no date")
        return key


def _stage_label(ctx: ReportContext, stage: str | None) -> str:
    return stage if stage is not None else ctx.text("(bez etapu)", "(no stage)")


def _stages(opportunities: Iterable[Opportunity]) -> list[str | None]:
    """Stages by name; opportunities without a stage last."""
    stages = {o.stage for o in opportunities}
    return sorted(s for s in stages if s is not None) + ([None] if None in stages else [])


def _measure_columns(ctx: ReportContext, key: str, label: str) -> tuple[Column, ...]:
    return (
        Column(key, label),
        Column("count", ctx.text("Liczba", "Count"), "int"),
        Column("value", ctx.text("Wartość", "Value"), "money"),
        Column("weighted", ctx.text("Wartość ważona", "Weighted value"), "money"),
    )


def _measure_row(
    key: str, label: str, amount: Sum, *, overdue: bool = False, total: bool = False
) -> Row:
    values = {key: label, "count": amount.count, "value": amount.value}
    return Row({**values, "weighted": amount.weighted}, overdue=overdue, total=total)


def _with_total(ctx: ReportContext, key: str, rows: list[Row], now: list[Opportunity]) -> list[Row]:
    """Data rows and, when there are any, the total row."""
    if not rows:
        return rows
    return [*rows, _measure_row(key, ctx.text("Razem", "Total"), sum_of(now), total=True)]


def by_stage(ctx: ReportContext, now: list[Opportunity]) -> Table:
    """Stages by name, the ones without a stage last."""
    sums = _sums(now, lambda o: o.stage)
    rows = [_measure_row("stage", _stage_label(ctx, s), sums[s]) for s in _stages(now)]
    return Table(
        ctx.text("Według etapu", "By stage"),
        _measure_columns(ctx, "stage", ctx.text("Etap", "Stage")),
        _with_total(ctx, "stage", rows, now),
    )


def by_month(ctx: ReportContext, now: list[Opportunity], months: Months) -> Table:
    """Close months; passed ones in red."""
    sums = _sums(now, months.key)
    rows = [
        _measure_row("month", months.label(k), sums.get(k, Sum()), overdue=months.is_overdue(k))
        for k in (months.ordered(sums) if now else [])
    ]
    return Table(
        ctx.text("Według miesiąca zamknięcia", "By expected close month"),
        _measure_columns(ctx, "month", ctx.text("Miesiąc", "Month")),
        _with_total(ctx, "month", rows, now),
    )


def by_rep(ctx: ReportContext, now: list[Opportunity], week_ago: list[Opportunity]) -> Table:
    """Reps now or a week ago (a rep whose pipeline emptied shows the drop), by surname."""
    sums, sums_then = (
        _sums(now, lambda o: o.responsible_id),
        _sums(week_ago, lambda o: o.responsible_id),
    )
    names = common.employee_names(ctx.uow.session, {*sums, *sums_then})
    rows = [
        _rep_row(name, sums.get(rep, Sum()), sums_then.get(rep, Sum()))
        for rep, name in names.items()
    ]
    if rows:
        rows.append(_rep_row(ctx.text("Razem", "Total"), sum_of(now), sum_of(week_ago), total=True))
    return Table(
        ctx.text("Według handlowca", "By sales rep"),
        (
            Column("rep", ctx.text("Handlowiec", "Sales rep")),
            Column("count", ctx.text("Liczba", "Count"), "int"),
            Column("value", ctx.text("Wartość", "Value"), "money"),
            Column(
                "value_change",
                ctx.text("Zmiana wartości (7 dni)", "Value change (7 days)"),
                "money",
            ),
            Column("weighted", ctx.text("Wartość ważona", "Weighted value"), "money"),
            Column(
                "weighted_change",
                ctx.text("Zmiana ważonej (7 dni)", "Weighted change (7 days)"),
                "money",
            ),
        ),
        rows,
    )


def _rep_row(name: str, now: Sum, then: Sum, *, total: bool = False) -> Row:
    return Row(
        {
            "rep": name,
            "count": now.count,
            "value": now.value,
            "value_change": now.value - then.value,
            "weighted": now.weighted,
            "weighted_change": now.weighted - then.weighted,
        },
        total=total,
    )


def chart(ctx: ReportContext, now: list[Opportunity], months: Months) -> Chart:
    """Weighted value per close month, a stacked bar per stage."""
    by_cell = _sums(now, lambda o: (o.stage, months.key(o)))
    keys = months.ordered(k for _s, k in by_cell)
    return Chart(
        ctx.text("Wartość ważona wg miesiąca zamknięcia", "Weighted value by close month"),
        [months.label(k) for k in keys],
        {
            _stage_label(ctx, stage): [float(by_cell.get((stage, k), Sum()).weighted) for k in keys]
            for stage in _stages(now)
        },
        kind="stacked",
        value_kind="money",
    )


def crosstab(ctx: ReportContext, now: list[Opportunity], months: Months) -> Table:
    """Stage × close month of the weighted value (the spreadsheet's pivot sheet)."""
    by_cell = _sums(now, lambda o: (o.stage, months.key(o)))
    keys = months.ordered(k for _s, k in by_cell)
    columns = (
        Column("stage", ctx.text("Etap", "Stage")),
        *(Column(k, months.label(k), "money") for k in keys),
        Column(_TOTAL, ctx.text("Razem", "Total"), "money"),
    )

    def row(label: str, group: list[Opportunity], *, total: bool = False) -> Row:
        cells = _sums(group, months.key)
        values = {k: cells.get(k, Sum()).weighted for k in keys}
        return Row({"stage": label, **values, _TOTAL: sum_of(group).weighted}, total=total)

    rows = [row(_stage_label(ctx, s), [o for o in now if o.stage == s]) for s in _stages(now)]
    rows.append(row(ctx.text("Razem", "Total"), now, total=True))
    return Table(
        ctx.text(
            "Wartość ważona: etap × miesiąc zamknięcia", "Weighted value: stage × close month"
        ),
        columns,
        rows,
    )
