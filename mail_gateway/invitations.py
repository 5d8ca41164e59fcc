"""Which notification mails carry a calendar invitation, and which withdraw one.

Only the assignee is invited (the invitation carries the task's internal fields), only for
planned tasks, only in registers that opted in (``register update CODE --invitations on``).
Assigning or rescheduling sends a REQUEST; cancelling the task, or giving it to someone else,
sends the previous holder a CANCEL with the same UID and a higher SEQUENCE.
"""

from __future__ import annotations

from collections.abc import Iterable
from email.message import EmailMessage

from hermes_groupware.db.session import UnitOfWork
from hermes_groupware.models import Employee, Register, Task
from hermes_groupware.models.enums import NotificationEvent, TaskStatus
from hermes_groupware.services.notification_rules import Notice, Recipient
from mail_gateway import imip
from mail_gateway.processing import GatewayConfig
from sync.projection import task_data_for

_INVITING = frozenset(
    {NotificationEvent.ASSIGNED, NotificationEvent.DUE_CHANGED, NotificationEvent.STATUS_CHANGED}
)


def method_for(
    uow: UnitOfWork, notices: Iterable[Notice], task: Task, recipient: Recipient
) -> imip.Method | None:
    """REQUEST when the assignee's planned time is new or moved; CANCEL when the task is."""
    events = {n.event for n in notices}
    if not events & _INVITING or not _enabled(uow, task):
        return None
    if recipient.kind != "employee" or recipient.id != task.responsible_id:
        return None
    if task.status is TaskStatus.CANCELLED:
        return "CANCEL" if NotificationEvent.STATUS_CHANGED in events else None
    if events == {NotificationEvent.STATUS_CHANGED}:  # only a reopened task is invited again
        reopened = any(
            name == "status" and old == TaskStatus.CANCELLED.value
            for n in notices
            for name, old, _ in n.changes
        )
        return "REQUEST" if reopened else None
    return "REQUEST"


def attach(
    uow: UnitOfWork,
    message: EmailMessage,
    task: Task,
    recipient: Recipient,
    method: imip.Method,
    *,
    organizer: str,
    config: GatewayConfig,
) -> None:
    """Add the text/calendar part and the .ics file; REPLYs come back to ``organizer``."""
    if not recipient.email or task.planned_start is None:
        return
    data = task_data_for(uow.session, [task.id])[task.id]
    ics = imip.invitation(
        data,
        method=method,
        organizer=("Hermes", organizer),
        attendee=(recipient.name, recipient.email),
        sequence=task.version,
        domain=config.domain,
        zone=config.zone,
        now=uow.now(),
    )
    imip.attach_invitation(message, ics, method)


def previous_assignee(uow: UnitOfWork, notices: Iterable[Notice], task: Task) -> Recipient | None:
    """Whoever held the task before a reassignment in these notices, if they had an invitation."""
    if task.planned_start is None or not _enabled(uow, task):
        return None
    for notice in notices:
        if notice.event is not NotificationEvent.ASSIGNED:
            continue
        old = {name: before for name, before, _ in notice.changes}.get("responsible_id")
        employee = uow.session.get(Employee, int(old)) if old and old.isdigit() else None
        if employee is not None and employee.email and employee.id != task.responsible_id:
            return Recipient(
                "employee",
                employee.id,
                employee.full_name,
                employee.email,
                None,
                str(employee.locale),
            )
    return None


def _enabled(uow: UnitOfWork, task: Task) -> bool:
    return task.planned_start is not None and bool(
        uow.session.get_one(Register, task.register_id).send_invitations
    )
