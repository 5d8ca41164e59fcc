"""Turnover by customer from the ERP documents linked to tasks, period over period.

The report compares the last complete period in the reader's zone with the one before it: run
on a Monday with ``period=week`` it shows last Monday–Sunday against the week before; with
``month`` (the default) last month against the month before. Only documents of the given types
count (default ``FV``, invoices), dated by their document date, each once (see
:mod:`reports.turnover.data`). Amounts in different currencies are never added: every currency
has its own table, totals and figures.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hermes_groupware.models.enums import CustomerKind, ReportKind
from reports import common
from reports.model import ReportContext, ReportResult
from reports.turnover import layout
from reports.turnover.data import documents
from reports.turnover.periods import PERIODS, last_two

_CUSTOMER_KINDS = [kind.value for kind in CustomerKind]


def check_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """``period`` (week|month|quarter|year), ``document_types`` (list, default FV invoices),
    ``customer_kind`` (client|prospect|partner|competitor, optional)."""
    common.reject_unknown(params, ("period", "document_types", "customer_kind"))
    kind = params.get("customer_kind")
    return {
        "period": common.choice(params, "period", PERIODS, "month"),
        "document_types": [t.upper() for t in common.text_list(params, "document_types", ["FV"])],
        "customer_kind": common.choice(params, "customer_kind", _CUSTOMER_KINDS, "")
        if kind
        else None,
    }


def build(ctx: ReportContext) -> ReportResult:
    """One reader's turnover report."""
    params = check_params(ctx.params)
    current, previous = last_two(ctx.today(), params["period"])
    kind = params["customer_kind"]
    docs = documents(
        ctx,
        first=previous.first,
        last=current.last,
        types=params["document_types"],
        customer_kind=CustomerKind(kind) if kind else None,
    )
    lines = layout.lines(ctx, docs, current, previous)
    types = ", ".join(params["document_types"])
    return ReportResult(
        kind=ReportKind.TURNOVER,
        locale=ctx.locale,
        title=ctx.text("Obroty według kontrahentów", "Turnover by customer"),
        period=ctx.text(
            f"{current.name} ({current.first} – {current.last}) wobec {previous.name} "
            f"({previous.first} – {previous.last}); dokumenty: {types}",
            f"{current.name} ({current.first} – {current.last}) vs {previous.name} "
            f"({previous.first} – {previous.last}); documents: {types}",
        ),
        generated_at=ctx.now,
        time_zone=ctx.zone.key,
        figures=layout.figures(ctx, lines, docs, current, previous),
        tables=[
            layout.table(ctx, currency, rows, current, previous) for currency, rows in lines.items()
        ],
        chart=layout.chart(ctx, lines, current, previous) if docs else None,
        crosstab=layout.crosstab(ctx, lines, docs, current, previous) if docs else None,
    )
