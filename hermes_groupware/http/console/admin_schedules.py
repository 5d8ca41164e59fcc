"""Administrators' report schedules: list with next run and last status, create ("every
Monday at 8:00"), the runs of one, and run now (queued; the scheduler sends it)."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from hermes_groupware.errors import InvalidInput
from hermes_groupware.http.console import forms
from hermes_groupware.http.console.auth import admin_required, context, user
from hermes_groupware.http.console.schedule_preview import preview_text
from hermes_groupware.models.enums import ReportFormat, ReportKind
from hermes_groupware.services import report_schedule_admin, report_schedules
from hermes_groupware.services.report_schedule_admin import ScheduleSpec

#: cron day-of-week names; "*" is every day
DAYS = ("*", "MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def register(blueprint: Blueprint) -> None:
    """Add the schedule pages."""
    rule = blueprint.add_url_rule
    rule("/admin/schedules", "schedules", admin_required(list_schedules))
    rule("/admin/schedules/new", "new_schedule", admin_required(new_schedule), methods=["POST"])
    rule("/admin/schedules/<int:schedule_id>", "schedule", admin_required(show_schedule))
    rule(
        "/admin/schedules/<int:schedule_id>/preview",
        "preview_schedule",
        admin_required(preview_schedule),
    )
    rule(
        "/admin/schedules/<int:schedule_id>/run-now",
        "run_schedule",
        admin_required(run_schedule),
        methods=["POST"],
    )


def list_schedules() -> str:
    """Every schedule with its next fire time and last run."""
    with context().uow() as uow:
        rows = report_schedule_admin.list_schedules(uow)
    return render_template(
        "admin_schedules.html",
        schedules=rows,
        kinds=[k.value for k in ReportKind if k is not ReportKind.VIEW],
        formats=[f.value for f in ReportFormat],
        days=DAYS,
    )


def cron() -> str:
    """The cron line: typed out, or built from the day and time fields."""
    typed = forms.text("cron", limit=100)
    if typed:
        return typed
    day = request.form.get("day", "MON")
    if day not in DAYS:
        raise InvalidInput("day", "expected MON..SUN or every day")
    found = _TIME.match(request.form.get("time", "").strip())
    if found is None:
        raise InvalidInput("time", "expected HH:MM, e.g. 08:00")
    return f"{int(found[2])} {int(found[1])} * * {day}"


def new_schedule() -> Response:
    """Create a schedule; its first fire time is planned at once."""
    spec = ScheduleSpec(
        name=forms.text("name", required=True),
        reports=request.form.getlist("reports")[:10],
        cron=cron(),
        recipients=forms.words("recipients"),
        formats=request.form.getlist("formats")[:4] or ["html"],
        time_zone=forms.optional("time_zone", limit=64),
    )
    with context().uow(write=True) as uow:
        view = report_schedule_admin.create_schedule(uow, spec)
    return redirect(url_for("console.schedule", schedule_id=view.id))


def show_schedule(schedule_id: int) -> Any:
    """A schedule, its next fire times and its last runs with their status."""
    with context().uow() as uow:
        view = report_schedule_admin.get_schedule(uow, schedule_id)
        runs = report_schedule_admin.list_runs(uow, schedule_id, limit=20)
        upcoming = report_schedule_admin.upcoming(view, uow.now())
    return render_template("admin_schedule.html", schedule=view, runs=runs, upcoming=upcoming)


def preview_schedule(schedule_id: int) -> str:
    """The mail's text as it would go out now, built with the viewer's rights."""
    ctx = context()
    with ctx.uow() as uow:
        view = report_schedule_admin.get_schedule(uow, schedule_id)
        text = preview_text(
            uow, view, locale=user().locale, body_rows=ctx.settings.reports.body_rows
        )
    return render_template("schedule_preview.html", schedule=view, text=text)


def run_schedule(schedule_id: int) -> Response:
    """Queue a manual run; it shows as queued until the scheduler has sent it."""
    with context().uow(write=True) as uow:
        report_schedules.run_now(uow, schedule_id)
    return redirect(url_for("console.schedule", schedule_id=schedule_id))
