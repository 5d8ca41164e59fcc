"""Administrators' mail pages: the quarantine (decision trail, raw message, release to a task,
retry, delete) and the outbox (queued and dead messages, retry)."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from hermes_groupware.errors import InvalidInput
from hermes_groupware.http.console import forms
from hermes_groupware.http.console.auth import admin_required, context, user
from hermes_groupware.models.enums import InboundStatus, OutboundStatus, Source
from hermes_groupware.services import access, mailbox
from mail_gateway.intake import Intake
from mail_gateway.processing import GatewayConfig
from mail_gateway.release import Release, release

#: how much of a raw message the page shows; the download has all of it
RAW_PREVIEW_BYTES = 64 * 1024


def register(blueprint: Blueprint) -> None:
    """Add the quarantine and outbox pages."""
    rule = blueprint.add_url_rule
    rule("/admin/quarantine", "quarantine", admin_required(quarantine))
    rule("/admin/quarantine/<int:message_id>", "message", admin_required(message))
    rule("/admin/quarantine/<int:message_id>/raw", "raw_message", admin_required(raw_message))
    for name, view in (
        ("release", release_message),
        ("retry", retry_message),
        ("delete", delete_message),
    ):
        rule(
            f"/admin/quarantine/<int:message_id>/{name}",
            f"{name}_message",
            admin_required(view),
            methods=["POST"],
        )
    rule("/admin/outbox", "outbox", admin_required(outbox))
    rule(
        "/admin/outbox/<int:message_id>/retry",
        "retry_outbound",
        admin_required(retry_outbound),
        methods=["POST"],
    )


def quarantine() -> str:
    """Held messages, newest first, with the reason."""
    with context().uow() as uow:
        rows = mailbox.list_messages(uow, status=InboundStatus.QUARANTINED)
        items = [
            {
                "id": r.id,
                "received_at": r.received_at,
                "sender": r.sender_address or r.envelope_from,
                "subject": r.subject,
                "reason": r.reason,
            }
            for r in rows
        ]
    return render_template("admin_quarantine.html", items=items)


def message(message_id: int) -> str:
    """One message: its decision trail, reason and the start of its raw text."""
    with context().uow() as uow:
        row = mailbox.message(uow, message_id)
        item = {
            "id": row.id,
            "status": row.status.value,
            "received_at": row.received_at,
            "sender": row.sender_address or row.envelope_from,
            "recipients": row.recipients,
            "subject": row.subject,
            "reason": row.reason,
            "trail": [str(step) for step in row.trail],
            "task_id": row.task_id,
            "raw": row.raw[:RAW_PREVIEW_BYTES].decode("utf-8", "replace"),
            "cut": row.size > RAW_PREVIEW_BYTES,
        }
    return render_template("admin_message.html", item=item)


def raw_message(message_id: int) -> Response:
    """The message as received, to open in a mail program (never rendered as a page)."""
    with context().uow() as uow:
        raw = mailbox.message(uow, message_id).raw
    response = Response(raw, mimetype="message/rfc822")
    response.headers["Content-Disposition"] = f'attachment; filename="message-{message_id}.eml"'
    return response


def release_message(message_id: int) -> Response:
    """Post the message to the task whose number the administrator typed."""
    number = forms.text("task", limit=40, required=True)
    ctx = context()
    with ctx.uow() as uow:
        task_id = access.readable_task_id(uow.session, uow.actor, number.upper())
    config = GatewayConfig.from_settings(ctx.settings)
    release(ctx.database, Release(user().actor, Source.API, message_id, task_id), config)
    return redirect(url_for("console.message", message_id=message_id))


def retry_message(message_id: int) -> Response:
    """Queue the message again and process it now (after a fix or a grant)."""
    ctx = context()
    with ctx.uow(write=True) as uow:
        mailbox.retry(uow, message_id)
    Intake(ctx.database, ctx.settings).process(message_id)
    return redirect(url_for("console.message", message_id=message_id))


def delete_message(message_id: int) -> Response:
    """Remove a quarantined message for good (spam)."""
    with context().uow(write=True) as uow:
        mailbox.delete(uow, message_id)
    return redirect(url_for("console.quarantine"))


def outbox() -> str:
    """Queued and dead outgoing messages (dead ones need a decision)."""
    status = request.args.get("status", "")
    try:
        chosen = OutboundStatus(status) if status else None
    except ValueError as exc:
        raise InvalidInput("status", "expected queued, sent or dead") from exc
    with context().uow() as uow:
        items = [
            {
                "id": r.id,
                "created_at": r.created_at,
                "recipient": r.recipient,
                "kind": r.kind,
                "status": r.status.value,
                "attempts": r.attempts,
                "next_attempt_at": r.next_attempt_at,
                "last_error": r.last_error,
            }
            for r in mailbox.list_outbox(uow, status=chosen)
        ]
    return render_template("admin_outbox.html", items=items, status=status)


def retry_outbound(message_id: int) -> Response:
    """Queue a dead message again, now."""
    with context().uow(write=True) as uow:
        mailbox.retry_outbound(uow, message_id)
    return redirect(url_for("console.outbox"))
