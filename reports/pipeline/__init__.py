"""Sales pipeline forecast: open opportunities by stage, expected close month and sales rep.

An open opportunity is an open task (not done or cancelled) with a value. Its weighted value is
value × probability / 100; **an opportunity without a probability weighs 0**: nobody has judged
its chances yet, and guessing would inflate the forecast. The per-rep table compares with the
state seven days earlier (see :mod:`reports.pipeline.data`). Close months are those of the
reader's zone: the window runs from the current month for ``months`` months; open
opportunities whose close month has passed are shown month by month in red, later ones in one
"after" row, those without a date in a "no date" row, so every table adds up to the same total.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from hermes_groupware.models.enums import ReportKind
from hermes_groupware.services import lookups
from reports import common
from reports.model import Figure, ReportContext, ReportResult
from reports.pipeline import layout
from reports.pipeline.data import Filters, as_of, current

_WEEK = dt.timedelta(days=7)


def check_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """``register`` (code), ``assignee`` (login of the responsible rep), ``months`` (1-24)."""
    common.reject_unknown(params, ("register", "assignee", "months"))
    return {
        "register": common.optional_text(params, "register"),
        "assignee": common.optional_text(params, "assignee"),
        "months": common.bounded_int(params, "months", default=6, low=1, high=24),
    }


def build(ctx: ReportContext) -> ReportResult:
    """One reader's pipeline."""
    session, params = ctx.uow.session, check_params(ctx.params)
    register, assignee = params["register"], params["assignee"]
    filters = Filters(
        register_id=lookups.register_by_code(session, register, field="params.register").id
        if register
        else None,
        responsible_id=lookups.employee_by_login(session, assignee, field="params.assignee").id
        if assignee
        else None,
    )
    now = current(ctx, filters)
    week_ago = as_of(ctx, filters, ctx.now - _WEEK)
    since = (ctx.now - _WEEK).astimezone(ctx.zone).date()
    months = layout.Months(ctx, params["months"])
    total, total_then = layout.sum_of(now), layout.sum_of(week_ago)
    return ReportResult(
        kind=ReportKind.PIPELINE,
        locale=ctx.locale,
        title=ctx.text("Prognoza sprzedaży", "Sales pipeline forecast"),
        period=ctx.text(
            f"Stan na {ctx.today()}, zmiany od {since}",
            f"As of {ctx.today()}, changes since {since}",
        ),
        generated_at=ctx.now,
        time_zone=ctx.zone.key,
        figures=[
            Figure(ctx.text("Otwarte szanse", "Open opportunities"), total.count),
            Figure(ctx.text("Wartość", "Value"), total.value, "money"),
            Figure(ctx.text("Wartość ważona", "Weighted value"), total.weighted, "money"),
            Figure(
                ctx.text("Zmiana ważonej od tygodnia", "Weighted change since last week"),
                total.weighted - total_then.weighted,
                "money",
            ),
        ],
        tables=[
            layout.by_stage(ctx, now),
            layout.by_month(ctx, now, months),
            layout.by_rep(ctx, now, week_ago),
        ],
        chart=layout.chart(ctx, now, months) if now else None,
        crosstab=layout.crosstab(ctx, now, months) if now else None,
    )
