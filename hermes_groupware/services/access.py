"""The single visibility and edit policy for tasks; every other module asks here.

An employee sees a task when any of these holds:

* they are an admin;
* they are its responsible employee or its creator;
* it was delegated to them *with history*, directly or through an ancestor (the whole case);
* it was delegated to them as a sub-task *hiding the parent* (that task only);
* the task is not private and they may read its register (register default, a personal grant
  or a grant to one of their groups).

Delegations never grant anything upwards: the parent of a delegated sub-task is shown only when
the employee may see it on their own (the hidden-parent rule of the seed). Inactive employees
see nothing. Editing needs the same, with register ``edit`` instead of ``read``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, and_, false, or_, select, true
from sqlalchemy.orm import Session

from hermes_groupware.db.session import Actor
from hermes_groupware.errors import NotFound, PermissionDenied
from hermes_groupware.models import (
    Employee,
    Register,
    RegisterPermission,
    Task,
    TaskItem,
    group_members,
)
from hermes_groupware.models.enums import AccessLevel, DelegationMode, ItemKind, Visibility


def register_levels(session: Session, actor: Actor) -> dict[int, AccessLevel]:
    """The actor's effective level on every register (strongest of default and grants)."""
    if _shut_out(session, actor):
        registers = session.execute(select(Register.id)).scalars()
        return dict.fromkeys(registers, AccessLevel.NONE)
    return _levels(session, actor)


def _levels(session: Session, actor: Actor) -> dict[int, AccessLevel]:
    """:func:`register_levels` for an actor known not to be shut out."""
    registers = session.execute(select(Register.id, Register.default_access)).all()
    if actor.is_admin:
        return {register_id: AccessLevel.EDIT for register_id, _ in registers}
    if actor.employee_id is None:
        return {register_id: AccessLevel.NONE for register_id, _ in registers}
    levels = {register_id: AccessLevel(level) for register_id, level in registers}
    grants = session.execute(
        select(RegisterPermission.register_id, RegisterPermission.level).where(
            _granted_to(actor.employee_id)
        )
    ).all()
    for register_id, level in grants:
        levels[register_id] = _stronger(levels[register_id], AccessLevel(level))
    return levels


def register_level(session: Session, actor: Actor, register_id: int) -> AccessLevel:
    """The actor's level on one register, as :func:`register_levels` gives it."""
    if _shut_out(session, actor):
        return AccessLevel.NONE
    return _level_on(session, actor, register_id)


def _level_on(session: Session, actor: Actor, register_id: int) -> AccessLevel:
    """:func:`register_level` for an actor known not to be shut out. A write needs one
    register, which it has loaded already: no reading of every register, as :func:`_levels`."""
    register = session.get(Register, register_id)
    if register is None:
        return AccessLevel.NONE
    if actor.is_admin:
        return AccessLevel.EDIT
    if actor.employee_id is None:
        return AccessLevel.NONE
    grants = session.scalars(
        select(RegisterPermission.level).where(
            RegisterPermission.register_id == register_id, _granted_to(actor.employee_id)
        )
    )
    level = AccessLevel(register.default_access)
    for granted in grants:
        level = _stronger(level, AccessLevel(granted))
    return level


def _granted_to(employee_id: int) -> ColumnElement[bool]:
    """Grants to the employee and to the groups they belong to."""
    my_groups = select(group_members.c.group_id).where(group_members.c.employee_id == employee_id)
    return or_(
        RegisterPermission.employee_id == employee_id,
        RegisterPermission.group_id.in_(my_groups),
    )


def _stronger(level: AccessLevel, other: AccessLevel) -> AccessLevel:
    return other if other.rank > level.rank else level


def _shut_out(session: Session, actor: Actor) -> bool:
    """An employee's actor whose employee is gone or inactive, admins included: actors are
    cached for a few seconds by the protocol adapters, the check is here."""
    if actor.employee_id is None:
        return False
    employee = session.get(Employee, actor.employee_id)  # the unit of work holds it
    return employee is None or not employee.is_active


def _delegated_task_ids(employee_id: int, mode: DelegationMode) -> Select[int]:
    return select(TaskItem.task_id).where(
        TaskItem.kind == ItemKind.DELEGATION,
        TaskItem.delegate_id == employee_id,
        TaskItem.delegation_mode == mode,
        TaskItem.revoked_at.is_(None),
    )


def assigned_to(employee_id: int) -> ColumnElement[bool]:
    """The employee's own tasks ("My tasks"): responsible for it, or holding a standing
    delegation of it (either mode). Not a permission: combine it with a visibility clause."""
    delegated = select(TaskItem.task_id).where(
        TaskItem.kind == ItemKind.DELEGATION,
        TaskItem.delegate_id == employee_id,
        TaskItem.revoked_at.is_(None),
    )
    return or_(Task.responsible_id == employee_id, Task.id.in_(delegated))


def _with_history_tree(employee_id: int) -> Select[int]:
    """Tasks delegated with history and all their descendants (a recursive CTE)."""
    roots = _delegated_task_ids(employee_id, DelegationMode.WITH_HISTORY).cte(
        "delegated_tree", recursive=True
    )
    children = select(Task.id).join(roots, Task.parent_id == roots.c.task_id)
    tree = roots.union(children)
    return select(tree.c.task_id)


def visible_tasks_clause(session: Session, actor: Actor, level: AccessLevel) -> ColumnElement[bool]:
    """A WHERE clause selecting the tasks the actor may see (``READ``) or change (``EDIT``)."""
    if _shut_out(session, actor):
        return false()
    if actor.is_admin:
        return true()
    if actor.employee_id is None:
        return false()
    registers = [rid for rid, lvl in _levels(session, actor).items() if lvl.rank >= level.rank]
    return or_(
        _personal(actor.employee_id),
        and_(Task.visibility == Visibility.NORMAL, Task.register_id.in_(registers)),
    )


def _personal(me: int) -> ColumnElement[bool]:
    """Tasks the employee holds themselves, whatever the register: responsible, creator,
    delegate (with history: the whole case; hiding the parent: that task)."""
    return or_(
        Task.responsible_id == me,
        Task.creator_id == me,
        Task.id.in_(_with_history_tree(me)),
        Task.id.in_(_delegated_task_ids(me, DelegationMode.HIDE_PARENT)),
    )


@dataclass(frozen=True)
class TaskAccess:
    """What an actor may do with one task: :func:`visible_tasks_clause` with ``READ`` and
    ``EDIT``, decided together (the register's level, then at most one query)."""

    see: bool
    edit: bool


NO_ACCESS = TaskAccess(see=False, edit=False)
FULL_ACCESS = TaskAccess(see=True, edit=True)


def task_access(session: Session, actor: Actor, task: Task) -> TaskAccess:
    """The actor's access to ``task``, by the same rules as :func:`visible_tasks_clause`."""
    if _shut_out(session, actor):
        return NO_ACCESS
    if actor.is_admin:
        return FULL_ACCESS
    if actor.employee_id is None:
        return NO_ACCESS
    level = AccessLevel.NONE
    if task.visibility is Visibility.NORMAL:
        level = _level_on(session, actor, task.register_id)
    if level.rank >= AccessLevel.EDIT.rank:
        return FULL_ACCESS
    held = select(Task.id).where(Task.id == task.id, _personal(actor.employee_id))
    if session.scalar(held) is not None:  # their own task, or delegated to them
        return FULL_ACCESS
    return TaskAccess(see=level.rank >= AccessLevel.READ.rank, edit=False)


def can_see(session: Session, actor: Actor, task_id: int) -> bool:
    """Whether the actor may know that the task exists and read it."""
    task = session.get(Task, task_id)
    return task is not None and task_access(session, actor, task).see


def can_edit(session: Session, actor: Actor, task_id: int) -> bool:
    """Whether the actor may change the task or add items to it."""
    task = session.get(Task, task_id)
    return task is not None and task_access(session, actor, task).edit


def readable_task(session: Session, actor: Actor, task_id: int) -> Task:
    """The task, or NotFound when it does not exist or the actor may not see it.

    Both cases raise the same error, so nobody learns that a hidden task exists.
    """
    task = session.get(Task, task_id)
    if task is None or not task_access(session, actor, task).see:
        raise NotFound("task not found")
    return task


def readable_task_id(session: Session, actor: Actor, number: str) -> int:
    """The id of the task with this number, with the same NotFound for missing and hidden."""
    task_id = session.scalar(select(Task.id).where(Task.number == number))
    if task_id is None or not can_see(session, actor, task_id):
        raise NotFound(f"task {number} not found")
    return task_id


def editable_task(session: Session, actor: Actor, task_id: int) -> Task:
    """The task, or NotFound (invisible) / PermissionDenied (visible, not editable)."""
    task = session.get(Task, task_id)
    allowed = task_access(session, actor, task) if task is not None else NO_ACCESS
    if task is None or not allowed.see:
        raise NotFound("task not found")
    if not allowed.edit:
        raise PermissionDenied(f"you may not change task {task.number}")
    return task


def require_register_level(
    session: Session, actor: Actor, register_id: int, level: AccessLevel
) -> None:
    """Raise PermissionDenied unless the actor has ``level`` on the register."""
    if register_level(session, actor, register_id).rank < level.rank:
        raise PermissionDenied(f"you may not {level.value} tasks in this register")


def require_admin(actor: Actor) -> None:
    """Directory and configuration changes are for admins."""
    if not actor.is_admin:
        raise PermissionDenied("only administrators may do this")
