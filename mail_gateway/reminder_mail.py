"""E-mail and SMS reminders: each due occurrence claimed once and queued in the outbox.

``send_reminders`` runs in one transaction: :func:`reminders.due_reminders` claims each due
occurrence (a unique firing row) and the message is queued in the same transaction, so a crash
repeats the whole round and several instances never send one reminder twice. The mail threads
with the task's other mail (:mod:`mail_gateway.task_mail`) and a reply becomes a note.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from hermes_groupware.config import Settings
from hermes_groupware.db.session import Actor, Database, UnitOfWork
from hermes_groupware.models import Customer, Employee, Register, Task, TaskReminder
from hermes_groupware.models.enums import Source
from hermes_groupware.models.reminder import ReminderChannel
from hermes_groupware.services import mailbox, reminders
from hermes_groupware.services.reminders import DueReminder
from hermes_groupware.services.task_views import local_text
from mail_gateway.addresses import RecipientKind, new_message_id
from mail_gateway.compose import one_line, templates
from mail_gateway.processing import GatewayConfig
from mail_gateway.task_mail import reply_address, threaded_message

_HEADLINE = ("Przypomnienie: {n} — {s}", "Reminder: {n} — {s}")
_SMS_LIMIT = 300  # the sender splits into segments and enforces [sms] max_segments


def send_reminders(db: Database, settings: Settings) -> int:
    """Queue every reminder that is due now; returns how many messages were queued."""
    config = GatewayConfig.from_settings(settings)
    with db.unit_of_work(Actor.system("reminders"), Source.SYSTEM) as uow:
        return sum(_queue(uow, due, config) for due in reminders.due_reminders(uow))


def _queue(uow: UnitOfWork, due: DueReminder, config: GatewayConfig) -> int:
    session = uow.session
    task = session.get(Task, due.task_id)
    employee = session.get(Employee, due.employee_id)
    if task is None or employee is None:
        return 0
    pl = str(employee.locale) == "pl"
    if due.channel is ReminderChannel.SMS:
        if not employee.mobile:
            return 0
        headline = _HEADLINE[0 if pl else 1].format(n=task.number, s=task.subject)
        text = one_line(f"{headline}{f': {due.note}' if due.note else ''}")[:_SMS_LIMIT]
        row = mailbox.enqueue(
            uow,
            message_id=new_message_id(config.domain, task.id),
            recipient=employee.mobile,
            raw=text.encode(),
            kind="reminder",
            channel="sms",
        )
        return row is not None
    if not employee.email:
        return 0
    message_id, message = threaded_message(
        uow,
        task,
        to_name=employee.full_name,
        to_address=employee.email,
        reply_to=reply_address(config, task.id, RecipientKind.EMPLOYEE, employee.id),
        config=config,
    )
    context = _context(uow, due, task, pl, reminders.zone_of(employee.time_zone))
    message.set_content(templates.get_template("reminder.txt").render(**context))
    message.add_alternative(
        templates.get_template("reminder.html").render(**context), subtype="html"
    )
    row = mailbox.enqueue(
        uow,
        message_id=message_id,
        recipient=employee.email,
        raw=message.as_bytes(),
        kind="reminder",
        task_id=task.id,
    )
    return row is not None


def _context(
    uow: UnitOfWork, due: DueReminder, task: Task, pl: bool, zone: ZoneInfo
) -> dict[str, Any]:
    session = uow.session
    register = session.get_one(Register, task.register_id)
    customer = session.get(Customer, task.customer_id) if task.customer_id else None
    reminder = session.get_one(TaskReminder, due.reminder_id)
    set_by = session.get(Employee, reminder.created_by) if reminder.created_by else None
    return {
        "locale": "pl" if pl else "en",
        "headline": _HEADLINE[0 if pl else 1].format(n=task.number, s=task.subject),
        "note": due.note,
        "task": task,
        "register": f"{register.code} · {register.name}",
        "colour": register.colour,
        "customer": customer.name if customer else None,
        "start": local_text(task.planned_start, task.all_day, zone),
        "due": local_text(task.due, task.all_day, zone),
        "overdue": task.is_overdue(uow.now()),
        "set_by": set_by.full_name if set_by and set_by.id != due.employee_id else None,
        "reminder_id": due.reminder_id,
    }
