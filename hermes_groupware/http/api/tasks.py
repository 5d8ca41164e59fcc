"""``/tasks``: list with filters and keyset paging, read, create, update, add a note.

The services decide what the caller may see and change (``access``); a task the caller may
not see is a 404 whether or not it exists, and a delegate of a hidden sub-task never learns
the parent (``parent`` is null and history hides it), exactly as in the CLI and CalDAV.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hermes_groupware.db.session import UnitOfWork
from hermes_groupware.errors import InvalidInput, NotFound
from hermes_groupware.http.api import paging
from hermes_groupware.http.api.registry import ID_PARAM, Api, Call, Operation, PathParam
from hermes_groupware.http.api.task_models import (
    ItemOut,
    NoteCreate,
    TaskCreate,
    TaskDetailOut,
    TaskOut,
    TaskPage,
    TaskQuery,
    TaskUpdate,
)
from hermes_groupware.services import items, task_views
from hermes_groupware.services import tasks as task_service
from hermes_groupware.services.access import readable_task, readable_task_id
from hermes_groupware.services.lookups import employee_by_login, register_by_code
from hermes_groupware.services.task_views import TaskFilter

REF_PARAM = PathParam(
    "path",
    {"type": "string", "minLength": 1, "maxLength": 40},
    "a task number such as REK/2026/0003, or the numeric id",
)


def register(api: Api) -> None:
    """Add the task operations."""
    tag = "tasks"
    api.add(Operation("GET", "/tasks", list_tasks, "List the tasks you may see", tag,
                      query=TaskQuery, response=TaskPage))
    api.add(Operation("POST", "/tasks", create_task, "Create a task", tag, scope="write",
                      body=TaskCreate, response=TaskDetailOut, status=201))
    api.add(Operation("GET", "/tasks/{ref}", get_task, "A task with items and history", tag,
                      response=TaskDetailOut, params={"ref": REF_PARAM}))
    api.add(Operation("PATCH", "/tasks/{task_id}", update_task, "Change a task", tag,
                      scope="write", body=TaskUpdate, response=TaskDetailOut,
                      params={"task_id": ID_PARAM}))
    api.add(Operation("POST", "/tasks/{task_id}/notes", add_note, "Add a note to a task", tag,
                      scope="write", body=NoteCreate, response=ItemOut, status=201,
                      params={"task_id": ID_PARAM}))  # fmt: skip


def list_tasks(call: Call) -> TaskPage:
    """Visible tasks in id order, ``limit`` at a time."""
    query = call.query_as(TaskQuery)
    after = paging.decode(query.cursor)
    with call.uow() as uow:
        if query.responsible:
            employee_by_login(uow.session, query.responsible, field="responsible")
        flt = TaskFilter(
            register=query.register_code,
            assignee=query.responsible,
            status=query.status,
            overdue=query.overdue,
            customer_id=query.customer,
            search=query.q,
            due_before=query.due_before,
            due_after=query.due_after,
        )
        rows = task_views.page_tasks(uow, flt, after_id=after, limit=query.limit)
    items_ = [TaskOut.model_validate(row) for row in rows]
    return TaskPage(items=items_, next=paging.next_cursor([t.id for t in items_], query.limit))


def get_task(call: Call, ref: str) -> TaskDetailOut:
    """By number or id; 404 for missing and hidden alike."""
    with call.uow() as uow:
        return _detail(uow, task_id_of(uow, ref))


def create_task(call: Call) -> TaskDetailOut:
    """Numbered in its register, with the same checks as ``task create``."""
    body = call.body_as(TaskCreate)
    _check_all_day(body.all_day, {"planned_start": body.planned_start, "due": body.due})
    with call.uow(write=True) as uow:
        changes: dict[str, Any] = {
            "description": body.description,
            "status": body.status,
            "priority": body.priority,
            "planned_start": body.planned_start,
            "due": body.due,
            "all_day": body.all_day,
            "customer_id": body.customer_id,
        }
        task = task_service.create_task(
            uow,
            register_id=register_by_code(uow.session, body.register_code).id,
            subject=body.subject,
            responsible_id=_responsible_id(uow, body.responsible),
            parent_id=body.parent_id,
            changes=task_service.TaskChanges(**changes),
        )
        return _detail(uow, task.id)


def update_task(call: Call, task_id: int) -> TaskDetailOut:
    """Only the fields sent change; ``expected_version`` guards against lost updates."""
    body = call.body_as(TaskUpdate)
    given = {name: getattr(body, name) for name in body.model_fields_set}
    expected = given.pop("expected_version", None)
    with call.uow(write=True) as uow:
        all_day = given.get("all_day", readable_task(uow.session, uow.actor, task_id).all_day)
        _check_all_day(all_day, {k: given[k] for k in ("planned_start", "due") if k in given})
        if "responsible" in given:
            given["responsible_id"] = _responsible_id(uow, given.pop("responsible"))
        if "register_code" in given:
            given["register_id"] = register_by_code(uow.session, given.pop("register_code")).id
        task_service.update_task(
            uow, task_id, task_service.TaskChanges(**given), expected_version=expected
        )
        return _detail(uow, task_id)


def add_note(call: Call, task_id: int) -> ItemOut:
    """A note by the caller, source ``api``."""
    body = call.body_as(NoteCreate)
    with call.uow(write=True) as uow:
        item = items.add_note(uow, task_id, body.body)
        note = next(n for n in task_views.task_detail(uow, task_id).notes if n.id == item.id)
        return ItemOut.model_validate(note)


def task_id_of(uow: UnitOfWork, ref: str) -> int:
    """The id of a task the caller may see, by number or numeric id (else NotFound)."""
    if ref.isascii() and ref.isdigit() and len(ref) < 10:
        return readable_task(uow.session, uow.actor, int(ref)).id
    if "\x00" in ref or len(ref) > 40:
        raise NotFound(f"task {ref} not found")
    return readable_task_id(uow.session, uow.actor, ref)


def _detail(uow: UnitOfWork, task_id: int) -> TaskDetailOut:
    return TaskDetailOut.model_validate(task_views.task_detail(uow, task_id))


def _responsible_id(uow: UnitOfWork, login: str | None) -> int | None:
    if login is None:
        return None
    return employee_by_login(uow.session, login, field="responsible").id


def _check_all_day(all_day: bool, dates: dict[str, dt.datetime | None]) -> None:
    """All-day tasks carry dates, stored at 00:00 UTC like the CLI stores them."""
    if not all_day:
        return
    for name, value in dates.items():
        if value is not None and value.time() != dt.time():
            raise InvalidInput(name, "an all-day date is given as YYYY-MM-DDT00:00:00Z")
