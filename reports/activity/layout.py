"""The activity report's tables, figures, chart and crosstab from the gathered counts."""

from __future__ import annotations

import datetime as dt

from reports.activity.data import MEASURES, Activity, Weeks
from reports.model import Chart, Column, Figure, ReportContext, Row, Table

SIX_DAYS = dt.timedelta(days=6)
_TOTAL = "total"


def week_label(monday: dt.date) -> str:
    """The ISO week, ``2026-W12``: how Polish offices name weeks too."""
    year, week, _day = monday.isocalendar()
    return f"{year}-W{week:02d}"


def _labels(ctx: ReportContext, *, now: bool) -> dict[str, str]:
    return {
        "created": ctx.text("Utworzone", "Created"),
        "completed": ctx.text("Zakończone", "Completed"),
        "overdue": ctx.text("Zaległe teraz", "Overdue now")
        if now
        else ctx.text("Zaległe na koniec tygodnia", "Overdue at week end"),
        "notes": ctx.text("Notatki", "Notes"),
        "mails_in": ctx.text("E-maile przychodzące", "E-mails in"),
        "mails_out": ctx.text("E-maile wychodzące", "E-mails out"),
        "customers": ctx.text("Kontrahenci z kontaktem", "Customers contacted"),
    }


def _measure_columns(ctx: ReportContext, *, now: bool) -> list[Column]:
    return [Column(key, label, "int") for key, label in _labels(ctx, now=now).items()]


def _rep_column(ctx: ReportContext) -> Column:
    return Column("rep", ctx.text("Handlowiec", "Sales rep"))


def _totals(activity: Activity, weeks: Weeks, reps: set[int] | None) -> dict[str, int]:
    """Whole-period numbers for some reps (None: all): sums of the weekly counts, except
    overdue (as of now, the last week) and customers (distinct over the period)."""
    current = len(weeks.mondays) - 1
    totals = {
        name: sum(
            n
            for (rep, week), n in activity.counts[name].items()
            if (reps is None or rep in reps) and (name != "overdue" or week == current)
        )
        for name in MEASURES
    }
    totals["customers"] = len(
        {c for (rep, _w), c in activity.contacts if reps is None or rep in reps}
    )
    return totals


def by_week(ctx: ReportContext, activity: Activity, names: dict[int, str], weeks: Weeks) -> Table:
    """One row per rep and week, oldest week first."""
    rows = [
        Row(
            {
                "rep": name,
                "week": week_label(monday),
                "week_start": monday,
                **{m: activity.counts[m][(rep, i)] for m in MEASURES},
            }
        )
        for rep, name in names.items()
        for i, monday in enumerate(weeks.mondays)
    ]
    return Table(
        ctx.text("Aktywność w tygodniach", "Activity by week"),
        (
            _rep_column(ctx),
            Column("week", ctx.text("Tydzień", "Week")),
            Column("week_start", ctx.text("Od", "From"), "date"),
            *_measure_columns(ctx, now=False),
        ),
        rows,
    )


def per_rep(ctx: ReportContext, activity: Activity, names: dict[int, str], weeks: Weeks) -> Table:
    """The whole period per rep, and everyone together."""
    rows = [Row({"rep": name, **_totals(activity, weeks, {rep})}) for rep, name in names.items()]
    if rows:
        everyone = _totals(activity, weeks, set(names))
        rows.append(Row({"rep": ctx.text("Razem", "Total"), **everyone}, total=True))
    return Table(
        ctx.text("Podsumowanie handlowców", "Totals per rep"),
        (_rep_column(ctx), *_measure_columns(ctx, now=True)),
        rows,
    )


def figures(
    ctx: ReportContext, activity: Activity, names: dict[int, str], weeks: Weeks
) -> list[Figure]:
    """The period's totals of everyone listed."""
    totals = _totals(activity, weeks, set(names))
    return [Figure(label, totals[key]) for key, label in _labels(ctx, now=True).items()]


def chart(ctx: ReportContext, activity: Activity, names: dict[int, str], weeks: Weeks) -> Chart:
    """Completed tasks per week, a line per rep."""
    completed = activity.counts["completed"]
    return Chart(
        ctx.text("Zakończone zadania w tygodniach", "Completed tasks per week"),
        [week_label(monday) for monday in weeks.mondays],
        {
            name: [float(completed[(rep, i)]) for i in range(len(weeks.mondays))]
            for rep, name in names.items()
        },
        kind="line",
    )


def crosstab(ctx: ReportContext, activity: Activity, names: dict[int, str], weeks: Weeks) -> Table:
    """Rep × week of completed tasks, with totals both ways."""
    completed = activity.counts["completed"]
    keys = [week_label(monday) for monday in weeks.mondays]

    def row(label: str, reps: set[int], *, total: bool = False) -> Row:
        cells = {k: sum(completed[(rep, i)] for rep in reps) for i, k in enumerate(keys)}
        return Row({"rep": label, **cells, _TOTAL: sum(cells.values())}, total=total)

    rows = [row(name, {rep}) for rep, name in names.items()]
    rows.append(row(ctx.text("Razem", "Total"), set(names), total=True))
    return Table(
        ctx.text("Zakończone zadania: handlowiec × tydzień", "Completed tasks: rep × week"),
        (
            _rep_column(ctx),
            *(Column(k, k, "int") for k in keys),
            Column(_TOTAL, ctx.text("Razem", "Total"), "int"),
        ),
        rows,
    )
