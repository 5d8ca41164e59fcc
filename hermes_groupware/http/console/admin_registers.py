"""Administrators' registers: name, colour, inbound address, default assignee and manager,
and who may read or edit each register."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from werkzeug.wrappers import Response

from hermes_groupware.http.console import forms
from hermes_groupware.http.console.auth import admin_required, context
from hermes_groupware.models.enums import AccessLevel
from hermes_groupware.services import registers
from hermes_groupware.services.registers import RegisterChanges


def register(blueprint: Blueprint) -> None:
    """Add the register pages."""
    rule = blueprint.add_url_rule
    rule("/admin/registers", "registers", admin_required(list_registers))
    rule(
        "/admin/registers/<code>",
        "update_register",
        admin_required(update_register),
        methods=["POST"],
    )
    rule("/admin/registers/<code>/grant", "grant", admin_required(grant), methods=["POST"])


def list_registers() -> str:
    """Every register with its settings, each editable in place."""
    with context().uow() as uow:
        rows = registers.list_registers(uow)
    return render_template(
        "admin_registers.html", registers=rows, levels=[level.value for level in AccessLevel]
    )


def update_register(code: str) -> Response:
    """Change a register; an empty address, assignee or manager clears it."""
    changes = RegisterChanges(
        name=forms.text("name", required=True),
        colour=forms.text("colour", limit=7, required=True),
        inbound_email=forms.text("inbound_email", limit=254),
        default_assignee=forms.text("default_assignee", limit=64),
        manager=forms.text("manager", limit=64),
    )
    with context().uow(write=True) as uow:
        registers.update_register(uow, code[:10], changes)
    return redirect(url_for("console.registers"))


def grant(code: str) -> Response:
    """Give one employee or one group a level on the register (replacing an earlier one)."""
    with context().uow(write=True) as uow:
        registers.grant(
            uow,
            code[:10],
            forms.choice("level", AccessLevel, AccessLevel.READ),
            login=forms.optional("login", limit=64),
            group=forms.optional("group", limit=64),
        )
    return redirect(url_for("console.registers"))
