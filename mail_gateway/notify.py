"""Notification mail: rule notices rendered per recipient (PL/EN, text + HTML) into the outbox.

``notify_round`` runs in one transaction: it reads the notices since the evaluator's cursor,
writes one outbox row per recipient and channel, and advances the cursor, so a crash anywhere
repeats the whole round and nothing is sent twice or lost. Every mail threads per task: a
stable root Message-ID in ``In-Reply-To``/``References``, ``Thread-Topic``/``Thread-Index``
for Outlook, the task number in the subject, and a signed ``Reply-To`` for its recipient.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from hermes_groupware.config import Settings
from hermes_groupware.db.session import Database, UnitOfWork
from hermes_groupware.models import Customer, Employee, Register, Task, TaskItem
from hermes_groupware.models.enums import NotificationChannel, NotificationEvent, Source
from hermes_groupware.rule_syntax import parse_rule_line
from hermes_groupware.services import mailbox, notification_rules
from hermes_groupware.services.notification_rules import Notice, Recipient
from hermes_groupware.services.task_views import local_text
from mail_gateway import imip, invitations
from mail_gateway.addresses import RecipientKind, new_message_id
from mail_gateway.compose import one_line, templates
from mail_gateway.processing import GatewayConfig
from mail_gateway.task_mail import reply_address, threaded_message

_HEADLINES = {
    NotificationEvent.TASK_CREATED: ("Nowe zadanie {n}", "New task {n}"),
    NotificationEvent.ASSIGNED: (
        "Zadanie {n} przypisane do: {who}",
        "Task {n} assigned to {who}",
    ),
    NotificationEvent.DELEGATED: ("Zadanie {n} zostało przekazane", "Task {n} was delegated"),
    NotificationEvent.STATUS_CHANGED: ("Zmiana statusu zadania {n}", "Status of task {n} changed"),
    NotificationEvent.DUE_CHANGED: ("Nowy termin zadania {n}", "New due date for task {n}"),
    NotificationEvent.MAIL_NOTE: ("Nowa wiadomość w zadaniu {n}", "New message on task {n}"),
    NotificationEvent.FILE_ADDED: ("Nowy plik w zadaniu {n}", "New file on task {n}"),
    NotificationEvent.DUE_SOON: ("Zbliża się termin zadania {n}", "Task {n} is due soon"),
    NotificationEvent.OVERDUE: ("Zadanie {n} jest po terminie", "Task {n} is overdue"),
}
_FIELDS = {
    "status": ("status", "status"),
    "due": ("termin", "due"),
    "responsible_id": ("odpowiedzialny", "responsible"),
    "subject": ("temat", "subject"),
    "priority": ("priorytet", "priority"),
    "planned_start": ("planowany start", "planned start"),
}
_STATUS = {
    "new": ("nowe", "new"),
    "in_progress": ("w toku", "in progress"),
    "waiting": ("oczekuje", "waiting"),
    "done": ("zakończone", "done"),
    "cancelled": ("anulowane", "cancelled"),
}


def install_default_rules(db: Database, settings: Settings) -> int:
    """``[notifications] default_rules`` on a database that never had them (once)."""
    lines = [parse_rule_line(line) for line in settings.notifications.default_rules]
    with db.unit_of_work(notification_rules.system_actor(), Source.SYSTEM) as uow:
        return notification_rules.install_defaults(uow, lines)


def notify_round(db: Database, settings: Settings) -> int:
    """Evaluate rules for new changes and due times; returns how many messages were queued."""
    config = GatewayConfig.from_settings(settings)
    with db.unit_of_work(notification_rules.system_actor(), Source.SYSTEM) as uow:
        notices, seq = notification_rules.journal_notices(
            uow, config.zone, quiet_seconds=settings.notifications.batch_seconds
        )
        notices += notification_rules.timed_notices(uow, config.zone)
        batches = _per_recipient(notices)
        queued = sum(_queue(uow, key, batch, config) for key, batch in batches.items())
        queued += _withdraw_invitations(uow, notices, config)
        notification_rules.advance(uow, seq)
    return queued


_Key = tuple[int, NotificationChannel, str]


def _per_recipient(notices: list[Notice]) -> dict[_Key, tuple[Recipient, list[Notice]]]:
    """One message per task, channel and recipient, however many rules and changes led to it."""
    batches: dict[_Key, tuple[Recipient, list[Notice]]] = {}
    for notice in notices:
        for recipient in notice.recipients:
            address = (
                recipient.phone if notice.channel is NotificationChannel.SMS else recipient.email
            )
            if address:
                key = (notice.task_id, notice.channel, address.lower())
                batches.setdefault(key, (recipient, []))[1].append(notice)
    return batches


def _withdraw_invitations(uow: UnitOfWork, notices: list[Notice], config: GatewayConfig) -> int:
    """A reassigned planned task: the previous assignee's invitation is cancelled."""
    by_task: dict[int, list[Notice]] = {}
    for notice in notices:
        by_task.setdefault(notice.task_id, []).append(notice)
    queued = 0
    for task_id, task_notices in by_task.items():
        task = uow.session.get(Task, task_id)
        previous = invitations.previous_assignee(uow, task_notices, task) if task else None
        if task is None or previous is None or previous.email is None:
            continue
        message_id, raw = render(uow, task_notices, task, previous, config, invite="CANCEL")
        row = mailbox.enqueue(
            uow,
            message_id=message_id,
            recipient=previous.email,
            raw=raw,
            kind="notification:invitation-cancel",
            task_id=task.id,
        )
        queued += row is not None
    return queued


def _queue(
    uow: UnitOfWork, key: _Key, batch: tuple[Recipient, list[Notice]], config: GatewayConfig
) -> int:
    task_id, channel, address = key
    recipient, notices = batch
    task = uow.session.get(Task, task_id)
    if task is None:
        return 0
    kind = "notification:" + "+".join(dict.fromkeys(str(n.event) for n in notices))
    if channel is NotificationChannel.SMS:
        pl = recipient.locale == "pl"
        text = f"{_headline(uow, notices, task, pl)}: {one_line(task.subject)}"
        message_id, raw, sms_task = new_message_id(config.domain, task.id), text.encode(), None
    else:
        message_id, raw = render(uow, notices, task, recipient, config)
        sms_task = task.id
    row = mailbox.enqueue(
        uow,
        message_id=message_id,
        recipient=address,
        raw=raw,
        kind=kind[:40],
        task_id=sms_task,
        channel=channel.value,
    )
    return row is not None


def render(
    uow: UnitOfWork,
    notices: list[Notice],
    task: Task,
    recipient: Recipient,
    config: GatewayConfig,
    *,
    invite: imip.Method | None = None,
) -> tuple[str, bytes]:
    """One recipient's mail about one or more notices on a task: Message-ID and bytes.

    ``invite`` forces an invitation method (the CANCEL for a previous assignee); otherwise
    :func:`invitations.method_for` decides whether this mail carries one.
    """
    pl = recipient.locale == "pl"
    context = _context(uow, notices, task, pl, config.zone)
    reply_to = _reply_to(task, recipient, config)
    message_id, message = threaded_message(
        uow,
        task,
        to_name=recipient.name,
        to_address=recipient.email or "",
        reply_to=reply_to,
        config=config,
    )
    message.set_content(templates.get_template("notification.txt").render(**context))
    message.add_alternative(
        templates.get_template("notification.html").render(**context), subtype="html"
    )
    method = invite or invitations.method_for(uow, notices, task, recipient)
    if method is not None:
        organizer = reply_to or f"{config.replies.local}@{config.domain}"
        invitations.attach(
            uow, message, task, recipient, method, organizer=organizer, config=config
        )
    return message_id, message.as_bytes()


def _reply_to(task: Task, recipient: Recipient, config: GatewayConfig) -> str | None:
    if recipient.id is None or recipient.kind == "address":
        return None
    kind = RecipientKind.EMPLOYEE if recipient.kind == "employee" else RecipientKind.CONTACT
    return reply_address(config, task.id, kind, recipient.id)


def _headline(uow: UnitOfWork, notices: list[Notice], task: Task, pl: bool) -> str:
    events = list(dict.fromkeys(n.event for n in notices))
    if len(events) == 1:
        return _describe(uow, events[0], task, pl)
    count = len(events)
    return (
        f"Zmiany w zadaniu {task.number} ({count})"
        if pl
        else (f"{count} updates to task {task.number}")
    )


def _describe(uow: UnitOfWork, event: NotificationEvent, task: Task, pl: bool) -> str:
    responsible = uow.session.get(Employee, task.responsible_id)
    who = responsible.full_name if responsible else "?"
    return _HEADLINES[event][0 if pl else 1].format(n=task.number, who=who)


def _context(
    uow: UnitOfWork, notices: list[Notice], task: Task, pl: bool, zone: ZoneInfo
) -> dict[str, Any]:
    session = uow.session
    register = session.get_one(Register, task.register_id)
    customer = session.get(Customer, task.customer_id) if task.customer_id else None
    responsible = session.get(Employee, task.responsible_id)
    items = [session.get(TaskItem, n.item_id) for n in notices if n.item_id]
    events = list(dict.fromkeys(n.event for n in notices))
    actors = {n.actor_id for n in notices if n.actor_id}
    names = [e.full_name for e in session.scalars(select(Employee).where(Employee.id.in_(actors)))]
    overdue = bool(task.due and task.due < uow.now() and not task.status.is_closed)
    return {
        "locale": "pl" if pl else "en",
        "headline": _headline(uow, notices, task, pl),
        "events": [_describe(uow, e, task, pl) for e in events] if len(events) > 1 else [],
        "task": task,
        "register": f"{register.code} · {register.name}",
        "colour": register.colour,
        "customer": customer.name if customer else None,
        "responsible": responsible.full_name if responsible else "—",
        "status": _STATUS[task.status.value][0 if pl else 1],
        "due": local_text(task.due, task.all_day, zone),
        "overdue": overdue,
        "changes": [_change(uow, c, pl, zone) for c in _merged_changes(notices)],
        "notes": [(i.sender, i.body) for i in items if i is not None and i.body],
        "actor": ", ".join(names) or None,
        "rule": ", ".join(dict.fromkeys(n.rule_name for n in notices)),
    }


def _merged_changes(notices: list[Notice]) -> list[tuple[str, str | None, str | None]]:
    """Each field once: its value before the first change and after the last one."""
    merged: dict[str, tuple[str | None, str | None]] = {}
    for notice in notices:
        for name, old, new in notice.changes:
            if name in _FIELDS:
                merged[name] = (merged.get(name, (old, None))[0], new)
    return [(name, old, new) for name, (old, new) in merged.items()]


def _change(
    uow: UnitOfWork, change: tuple[str, str | None, str | None], pl: bool, zone: ZoneInfo
) -> tuple[str, str | None, str | None]:
    name, old, new = change
    label = _FIELDS[name][0 if pl else 1]
    return label, _value(uow, name, old, pl, zone), _value(uow, name, new, pl, zone)


def _value(uow: UnitOfWork, name: str, value: str | None, pl: bool, zone: ZoneInfo) -> str | None:
    if value is None:
        return None
    if name == "status" and value in _STATUS:
        return _STATUS[value][0 if pl else 1]
    if name == "responsible_id" and value.isdigit():
        employee = uow.session.get(Employee, int(value))
        return employee.full_name if employee else value
    if name in ("due", "planned_start"):
        try:
            when = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
        return local_text(when if when.tzinfo else when.replace(tzinfo=dt.UTC), False, zone)
    return value
