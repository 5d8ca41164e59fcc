"""What a client's PUT means for the task: only the fields that really differ change.

Clients send back everything they got; comparing with what we rendered keeps a round trip from
touching the task (and its history) at all.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from hermes_groupware.db.session import UnitOfWork
from hermes_groupware.models import CalendarObject, Register, Task
from hermes_groupware.models.enums import Priority, TaskStatus
from hermes_groupware.services.lookups import register_by_code
from hermes_groupware.services.tasks import TaskChanges, create_task, update_task
from sync import ical


def apply_edit(uow: UnitOfWork, key: str, task_id: int, fields: ical.ClientFields) -> None:
    """Update the task from a PUT of an existing object."""
    task = uow.session.get_one(Task, task_id)
    changes = _changes(uow, key, task, fields)
    if changes:
        update_task(uow, task_id, TaskChanges(**changes))


def create_from(uow: UnitOfWork, key: str, fields: ical.ClientFields, default_register: str) -> int:
    """A new task from a PUT of a new object: into the register of a register list, else into
    the default register, with the employee whose home it is as the responsible."""
    code = key.split(":", 1)[1] if key.startswith("register:") else default_register
    register = register_by_code(uow.session, code)
    summary = (fields.summary or "").strip() or "(bez tytułu)"
    values: dict[str, Any] = {
        "description": fields.description or "",
        "planned_start": fields.planned_start,
        "due": fields.due,
        "all_day": fields.all_day,
        "categories": _categories(fields, register),
    }
    if fields.priority:
        values["priority"] = Priority(fields.priority)
    if fields.status and fields.status != TaskStatus.NEW.value:
        values["status"] = TaskStatus(fields.status)
        if fields.status == "done" and fields.completed_at:
            values["completed_at"] = fields.completed_at
    if values["planned_start"] and values["due"] and values["planned_start"] >= values["due"]:
        values["planned_start"] = None  # Apple: DTSTART = DUE means "no start"
    parent = _parent_id(uow, key, fields)
    task = create_task(
        uow,
        register_id=register.id,
        subject=summary,
        responsible_id=uow.actor.employee_id,
        parent_id=parent,
        changes=TaskChanges(**values),
    )
    return task.id


def _changes(uow: UnitOfWork, key: str, task: Task, fields: ical.ClientFields) -> dict[str, Any]:
    register = uow.session.get_one(Register, task.register_id)
    wanted: dict[str, Any] = {}
    if fields.summary is not None:
        wanted["subject"] = ical.strip_summary(fields.summary, task.number)
    if fields.description is not None:
        wanted["description"] = ical.strip_description(fields.description)
    if fields.status is not None:
        wanted["status"] = TaskStatus(fields.status)
        if fields.status == "done" and task.status is not TaskStatus.DONE and fields.completed_at:
            wanted["completed_at"] = fields.completed_at
    if fields.priority is not None:
        wanted["priority"] = Priority(fields.priority)
    wanted["categories"] = _categories(fields, register)
    wanted |= _dates(task, fields)
    parent = _parent_id(uow, key, fields)
    if parent is not None or _parent_shown(uow, key, task):
        wanted["parent_id"] = parent
    return {k: v for k, v in wanted.items() if getattr(task, k) != v}


def _dates(task: Task, fields: ical.ClientFields) -> dict[str, Any]:
    """New dates; a start we did not render (not before the due date) is kept, not cleared."""
    start, due = fields.planned_start, fields.due
    rendered_start = task.planned_start is not None and (
        task.due is None or task.planned_start < task.due
    )
    if start is not None and due is not None and start >= due:
        start = None if fields.component == "VTODO" else start
    if start is None and not rendered_start:
        start = task.planned_start
        if start is not None and due is not None and start > due:
            start = None
    values: dict[str, Any] = {"planned_start": start, "due": due}
    if start is not None or due is not None:
        values["all_day"] = fields.all_day
    return values


def _categories(fields: ical.ClientFields, register: Register) -> str:
    return ",".join(c for c in fields.categories if c != register.name)


def _parent_id(uow: UnitOfWork, key: str, fields: ical.ClientFields) -> int | None:
    """The task behind RELATED-TO, looked up only in the same collection (hidden parents stay
    hidden, and a client cannot attach a task under one it does not see)."""
    if not fields.parent_uid:
        return None
    return uow.session.scalar(
        select(CalendarObject.task_id).where(
            CalendarObject.collection == key,
            CalendarObject.uid == fields.parent_uid,
            ~CalendarObject.deleted,
        )
    )


def _parent_shown(uow: UnitOfWork, key: str, task: Task) -> bool:
    if task.parent_id is None:
        return False
    return (
        uow.session.scalar(
            select(CalendarObject.id).where(
                CalendarObject.collection == key,
                CalendarObject.task_id == task.parent_id,
                ~CalendarObject.deleted,
            )
        )
        is not None
    )
