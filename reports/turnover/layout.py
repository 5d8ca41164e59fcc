"""The turnover report's tables, figures, chart and crosstab from the documents (no queries)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from reports.model import Chart, Column, Figure, ReportContext, Row, Table
from reports.turnover.data import HOME_CURRENCY, Document
from reports.turnover.periods import Period, months_between

_TENTH = Decimal("0.1")
_TOP = 10
_TOTAL = "total"


@dataclass
class Line:
    """One customer's turnover in one currency."""

    customer_id: int | None
    customer: str
    current: Decimal = Decimal(0)
    previous: Decimal = Decimal(0)

    @property
    def change(self) -> Decimal:
        """Current minus previous."""
        return self.current - self.previous

    @property
    def change_percent(self) -> Decimal | None:
        """None when there was nothing to compare with."""
        if not self.previous:
            return None
        return (self.change * 100 / self.previous).quantize(_TENTH, ROUND_HALF_UP)


def _no_customer(ctx: ReportContext) -> str:
    return ctx.text("(bez kontrahenta)", "(no customer)")


def lines(
    ctx: ReportContext, docs: Iterable[Document], current: Period, previous: Period
) -> dict[str, list[Line]]:
    """Per currency (the home currency first, then by code; at least the home currency) the
    customers by current turnover, largest first."""
    by_currency: dict[str, dict[int | None, Line]] = {}
    for doc in docs:
        line = by_currency.setdefault(doc.currency, {}).setdefault(
            doc.customer_id, Line(doc.customer_id, doc.customer or _no_customer(ctx))
        )
        if doc.day in current:
            line.current += doc.amount
        elif doc.day in previous:
            line.previous += doc.amount
    currencies = sorted(by_currency, key=lambda c: (c != HOME_CURRENCY, c)) or [HOME_CURRENCY]
    return {
        currency: sorted(
            by_currency.get(currency, {}).values(),
            key=lambda line: (-line.current, -line.previous, line.customer),
        )
        for currency in currencies
    }


def _total(ctx: ReportContext, group: Iterable[Line]) -> Line:
    total = Line(None, ctx.text("Razem", "Total"))
    for line in group:
        total.current += line.current
        total.previous += line.previous
    return total


def _row(line: Line, *, total: bool = False) -> Row:
    return Row(
        {
            "customer": line.customer,
            "current": line.current,
            "previous": line.previous,
            "change": line.change,
            "change_percent": line.change_percent,
        },
        total=total,
    )


def table(
    ctx: ReportContext, currency: str, group: list[Line], current: Period, previous: Period
) -> Table:
    """One currency's customers and their total."""
    rows = [_row(line) for line in group]
    if rows:
        rows.append(_row(_total(ctx, group), total=True))
    return Table(
        ctx.text(f"Obroty według kontrahentów ({currency})", f"Turnover by customer ({currency})"),
        (
            Column("customer", ctx.text("Kontrahent", "Customer")),
            Column("current", current.name, "money"),
            Column("previous", previous.name, "money"),
            Column("change", ctx.text("Zmiana", "Change"), "money"),
            Column("change_percent", ctx.text("Zmiana %", "Change %"), "percent"),
        ),
        rows,
    )


def figures(
    ctx: ReportContext,
    by_currency: dict[str, list[Line]],
    docs: Iterable[Document],
    current: Period,
    previous: Period,
) -> list[Figure]:
    """Both periods' totals and the change per currency, and how many customers bought."""
    shown: list[Figure] = []
    for currency, group in by_currency.items():
        total = _total(ctx, group)
        shown += [
            Figure(
                ctx.text(
                    f"Obroty {current.name} ({currency})", f"Turnover {current.name} ({currency})"
                ),
                total.current,
                "money",
            ),
            Figure(
                ctx.text(
                    f"Obroty {previous.name} ({currency})", f"Turnover {previous.name} ({currency})"
                ),
                total.previous,
                "money",
            ),
            Figure(
                ctx.text(f"Zmiana % ({currency})", f"Change % ({currency})"),
                total.change_percent,
                "percent",
            ),
        ]
    buyers = {d.customer_id for d in docs if d.day in current and d.customer_id is not None}
    shown.append(Figure(ctx.text("Kontrahenci z obrotami", "Customers with turnover"), len(buyers)))
    return shown


def chart(
    ctx: ReportContext, by_currency: dict[str, list[Line]], current: Period, previous: Period
) -> Chart:
    """The ten largest customers of the first currency, this period beside the one before."""
    currency, group = next(iter(by_currency.items()))
    top = group[:_TOP]
    return Chart(
        ctx.text(
            f"Największych {_TOP} kontrahentów ({currency})", f"Top {_TOP} customers ({currency})"
        ),
        [line.customer for line in top],
        {
            current.name: [float(line.current) for line in top],
            previous.name: [float(line.previous) for line in top],
        },
        value_kind="money",
    )


def crosstab(
    ctx: ReportContext,
    by_currency: dict[str, list[Line]],
    docs: Iterable[Document],
    current: Period,
    previous: Period,
) -> Table:
    """Customer × month of both periods, per currency with a total row each."""
    months = months_between(previous.first, current.last)
    cells: dict[tuple[str, int | None, str], Decimal] = {}
    for doc in docs:
        key = (doc.currency, doc.customer_id, f"{doc.day:%Y-%m}")
        cells[key] = cells.get(key, Decimal(0)) + doc.amount

    def row(currency: str, label: str, customers: set[int | None], *, total: bool = False) -> Row:
        values = {
            m: sum((cells.get((currency, c, m), Decimal(0)) for c in customers), Decimal(0))
            for m in months
        }
        return Row(
            {"customer": label, "currency": currency, **values, _TOTAL: sum(values.values())},
            total=total,
        )

    rows = []
    for currency, group in by_currency.items():
        rows += [row(currency, line.customer, {line.customer_id}) for line in group]
        everyone = {line.customer_id for line in group}
        rows.append(row(currency, ctx.text("Razem", "Total"), everyone, total=True))
    return Table(
        ctx.text("Obroty: kontrahent × miesiąc", "Turnover: customer × month"),
        (
            Column("customer", ctx.text("Kontrahent", "Customer")),
            Column("currency", ctx.text("Waluta", "Currency")),
            *(Column(m, m, "money") for m in months),
            Column(_TOTAL, ctx.text("Razem", "Total"), "money"),
        ),
        rows,
    )
