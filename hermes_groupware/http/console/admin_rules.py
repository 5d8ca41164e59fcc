"""Administrators' notification rules: list, add ("when a complaint is assigned, e-mail the
team"), pause or resume, delete. Reminders on single tasks stay with the task's people."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from hermes_groupware.errors import InvalidInput
from hermes_groupware.http.console import forms
from hermes_groupware.http.console.auth import admin_required, context
from hermes_groupware.models.enums import NotificationChannel, NotificationEvent, TaskStatus
from hermes_groupware.services import notification_rules
from hermes_groupware.services.notification_rules import RuleSpec


def register(blueprint: Blueprint) -> None:
    """Add the rule pages."""
    rule = blueprint.add_url_rule
    rule("/admin/rules", "rules", admin_required(list_rules))
    rule("/admin/rules/new", "new_rule", admin_required(new_rule), methods=["POST"])
    rule(
        "/admin/rules/<int:rule_id>/delete",
        "delete_rule",
        admin_required(delete_rule),
        methods=["POST"],
    )


def list_rules() -> str:
    """Every rule with what it reacts to and whom it tells."""
    with context().uow() as uow:
        rows: list[dict[str, Any]] = [
            {
                "id": r.id,
                "name": r.name,
                "event": r.event.value,
                "recipients": r.recipients.replace(",", ", "),
                "channel": r.channel.value,
                "to_status": r.to_status,
                "lead_minutes": r.lead_minutes,
                "active": r.is_active,
            }
            for r in notification_rules.list_rules(uow)
        ]
    return render_template(
        "admin_rules.html",
        rules=rows,
        events=[e.value for e in NotificationEvent],
        statuses=[s.value for s in TaskStatus],
    )


def _status(name: str) -> TaskStatus | None:
    raw = request.form.get(name, "")
    return forms.choice(name, TaskStatus, TaskStatus.NEW) if raw else None


def new_rule() -> Response:
    """Add a rule; the service checks the recipients and the register."""
    event = forms.choice("event", NotificationEvent, NotificationEvent.ASSIGNED)
    recipients = tuple(forms.words("recipients", limit=50))
    if not recipients:
        raise InvalidInput("recipients", "at least one recipient")
    lead = request.form.get("lead_minutes", "")
    spec = RuleSpec(
        name=forms.text("name") or event.value,
        event=event,
        recipients=recipients,
        channel=forms.choice("channel", NotificationChannel, NotificationChannel.EMAIL),
        register=forms.optional("register", limit=10),
        to_status=_status("to_status"),
        lead_minutes=forms.number("lead_minutes", low=1, high=60 * 24 * 30) if lead else None,
    )
    with context().uow(write=True) as uow:
        notification_rules.add_rule(uow, spec)
    return redirect(url_for("console.rules"))


def delete_rule(rule_id: int) -> Response:
    """Remove a rule."""
    with context().uow(write=True) as uow:
        notification_rules.delete_rule(uow, rule_id)
    return redirect(url_for("console.rules"))
