"""Activity of sales reps: per rep and ISO week, what they created, completed, wrote and mailed.

What each number means is in :mod:`reports.activity.data`. Reps are listed by surname; with a
``group``, every active member is listed, a silent one with zeros (a manager wants to see who
did nothing), otherwise only the employees with something to show.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hermes_groupware.models.enums import ReportKind
from hermes_groupware.services import lookups
from reports import common
from reports.activity import layout
from reports.activity.data import Filters, Weeks, gather, members
from reports.model import ReportContext, ReportResult


def check_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """``weeks`` (1-26, the current one included), ``register`` (code), ``group`` (slug)."""
    common.reject_unknown(params, ("weeks", "register", "group"))
    return {
        "weeks": common.bounded_int(params, "weeks", default=4, low=1, high=26),
        "register": common.optional_text(params, "register"),
        "group": common.optional_text(params, "group"),
    }


def build(ctx: ReportContext) -> ReportResult:
    """One reader's activity report."""
    session, params = ctx.uow.session, check_params(ctx.params)
    register, group = params["register"], params["group"]
    filters = Filters(
        register_id=lookups.register_by_code(session, register, field="params.register").id
        if register
        else None,
        group_id=lookups.group_by_slug(session, group, field="params.group").id if group else None,
    )
    weeks = Weeks(ctx.today(), params["weeks"], ctx.zone)
    activity = gather(ctx, weeks, filters)
    reps = {rep for counts in activity.counts.values() for rep, _week in counts}
    names = common.employee_names(session, reps.union(members(ctx, filters)))
    first, last = weeks.mondays[0], weeks.mondays[-1]
    span = f"{layout.week_label(first)} – {layout.week_label(last)}"
    days = f"{first} – {last + layout.SIX_DAYS}"
    return ReportResult(
        kind=ReportKind.ACTIVITY,
        locale=ctx.locale,
        title=ctx.text("Aktywność handlowców", "Activity of sales reps"),
        period=ctx.text(f"Tygodnie {span} ({days})", f"Weeks {span} ({days})"),
        generated_at=ctx.now,
        time_zone=ctx.zone.key,
        figures=layout.figures(ctx, activity, names, weeks),
        tables=[
            layout.by_week(ctx, activity, names, weeks),
            layout.per_rep(ctx, activity, names, weeks),
        ],
        chart=layout.chart(ctx, activity, names, weeks) if names else None,
        crosstab=layout.crosstab(ctx, activity, names, weeks) if names else None,
    )
