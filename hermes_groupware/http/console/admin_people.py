"""Administrators' people pages: employees with their substitutes and absences, a first (or
reset) console password, absences with a stand-in, and the handover of open tasks."""

from __future__ import annotations

import datetime as dt
import secrets

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from hermes_groupware.errors import InvalidInput
from hermes_groupware.http.console import forms
from hermes_groupware.http.console.auth import admin_required, context
from hermes_groupware.services import absences, console_sessions, delegation, directory


def register(blueprint: Blueprint) -> None:
    """Add the people pages."""
    rule = blueprint.add_url_rule
    rule("/admin/employees", "employees", admin_required(employees))
    rule(
        "/admin/employees/console-password",
        "set_console_password",
        admin_required(set_console_password),
        methods=["POST"],
    )
    rule("/admin/absences/new", "new_absence", admin_required(new_absence), methods=["POST"])
    rule(
        "/admin/absences/<int:absence_id>/delete",
        "delete_absence",
        admin_required(delete_absence),
        methods=["POST"],
    )
    rule("/admin/handover", "handover", admin_required(handover), methods=["POST"])


def employees() -> str:
    """Everyone, with groups and substitutes, and the absences on record."""
    with context().uow() as uow:
        people = directory.list_employees(uow, include_inactive=True)
        away = absences.list_absences(uow)
    return render_template("admin_employees.html", people=people, absences=away)


def set_console_password() -> str:
    """A generated console password for an employee, shown once (their sessions end)."""
    login = forms.text("login", limit=64, required=True)
    password = secrets.token_urlsafe(12)
    with context().uow(write=True) as uow:
        console_sessions.set_password(uow, login, password)
    return render_template("console_password.html", login=login, password=password)


def _date(name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(request.form.get(name, "").strip())
    except ValueError as exc:
        raise InvalidInput(name, "expected a date, YYYY-MM-DD") from exc


def new_absence() -> Response:
    """Record an absence; the substitute gets the absentee's notifications meanwhile."""
    with context().uow(write=True) as uow:
        absences.add_absence(
            uow,
            forms.text("login", limit=64, required=True),
            starts_on=_date("from"),
            ends_on=_date("to"),
            substitute=forms.optional("substitute", limit=64),
            notify_absentee=request.form.get("notify_absentee") == "on",
        )
    return redirect(url_for("console.employees"))


def delete_absence(absence_id: int) -> Response:
    """Remove an absence record."""
    with context().uow(write=True) as uow:
        absences.delete_absence(uow, absence_id)
    return redirect(url_for("console.employees"))


def handover() -> str:
    """Move every open task of one employee to another, with history; lists what moved."""
    with context().uow(write=True) as uow:
        result = delegation.handover(
            uow,
            forms.text("from", limit=64, required=True),
            forms.text("to", limit=64, required=True),
            set_substitute=request.form.get("substitute") == "on",
        )
    return render_template("handover.html", result=result)
