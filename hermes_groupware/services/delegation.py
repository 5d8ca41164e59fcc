"""Delegation (with history, or a sub-task hiding its parent) and handover of open tasks."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from hermes_groupware.db.session import UnitOfWork
from hermes_groupware.errors import InvalidInput
from hermes_groupware.models import Employee, Task, TaskItem
from hermes_groupware.models.enums import OPEN_STATUSES, DelegationMode, ItemKind
from hermes_groupware.services import access, audit
from hermes_groupware.services.lookups import employee_by_login
from hermes_groupware.services.tasks import TaskChanges, update_task


def delegate(uow: UnitOfWork, task_id: int, login: str, mode: DelegationMode) -> TaskItem:
    """Hand a task to a co-worker (the seed's "kontakt" item).

    ``with_history``: the delegate sees the task, all its items and its sub-tasks.
    ``hide_parent``: only for sub-tasks; the delegate sees that sub-task and nothing above it.
    """
    session = uow.session
    task = access.editable_task(session, uow.actor, task_id)
    delegate_to = employee_by_login(session, login, field="delegate")
    if not delegate_to.is_active:
        raise InvalidInput("delegate", f"{login} is not active")
    if mode is DelegationMode.HIDE_PARENT and task.parent_id is None:
        raise InvalidInput("mode", "only a sub-task can be delegated without its parent")
    item = TaskItem(
        task_id=task.id,
        kind=ItemKind.DELEGATION,
        delegate_id=delegate_to.id,
        delegation_mode=mode,
        author_id=uow.actor.employee_id,
        source=uow.source,
        created_at=uow.now(),
    )
    session.add(item)
    session.flush()
    return item


def revoke_delegation(uow: UnitOfWork, item_id: int) -> None:
    """End a delegation; the journal records it as an item change."""
    item = uow.session.get(TaskItem, item_id)
    if item is None or item.kind is not ItemKind.DELEGATION:
        raise InvalidInput("delegation", f"no delegation {item_id}")
    access.editable_task(uow.session, uow.actor, item.task_id)
    item.revoked_at = uow.now()
    uow.session.flush()


@dataclass(frozen=True)
class HandoverResult:
    """What a handover moved."""

    from_login: str
    to_login: str
    task_numbers: list[str]


def handover(
    uow: UnitOfWork, from_login: str, to_login: str, *, set_substitute: bool = True
) -> HandoverResult:
    """Move every open task of one employee to another in this one transaction.

    History is written per task by the journal triggers (responsible old -> new). Admins only:
    a handover moves tasks the actor might not see one by one.
    """
    access.require_admin(uow.actor)
    session = uow.session
    source = employee_by_login(session, from_login, field="from")
    target = employee_by_login(session, to_login, field="to")
    if source.id == target.id:
        raise InvalidInput("to", "cannot hand tasks over to the same employee")
    if not target.is_active:
        raise InvalidInput("to", f"{to_login} is not active")
    task_ids = session.scalars(
        select(Task.id)
        .where(Task.responsible_id == source.id, Task.status.in_(OPEN_STATUSES))
        .order_by(Task.id)
        .with_for_update()
    ).all()
    numbers = [
        update_task(uow, tid, TaskChanges(responsible_id=target.id)).number for tid in task_ids
    ]
    if set_substitute:
        session.get_one(Employee, source.id).substitute_id = target.id
        session.flush()
    audit.record(
        uow, "employee.handover", "employee", source.login, to=target.login, tasks=len(numbers)
    )
    return HandoverResult(from_login=source.login, to_login=target.login, task_numbers=numbers)
