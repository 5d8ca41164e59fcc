"""Creating and changing tasks: validation, numbering, status rules and the version check."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any, Final
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from hermes_groupware.db.session import UnitOfWork
from hermes_groupware.errors import Conflict, InvalidInput
from hermes_groupware.models import ContactPerson, Customer, Employee, Register, Task
from hermes_groupware.models.enums import AccessLevel, Priority, TaskStatus, Visibility
from hermes_groupware.services import access
from hermes_groupware.services.registers import allocate_number

NUMBERING_ZONE = ZoneInfo("Europe/Warsaw")  # the year in REK/2026/0042 is the Polish year


class _Unset:
    """Marks a field an update leaves alone (None means "clear it")."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset()


@dataclass(frozen=True)
class Opportunity:
    """Sales opportunity data used for forecasting."""

    value: Decimal | None = None
    probability: int | None = None
    stage: str | None = None
    expected_close: dt.date | None = None


@dataclass(frozen=True)
class TaskChanges:
    """Fields to change; anything left UNSET keeps its value."""

    subject: str | _Unset = UNSET
    description: str | _Unset = UNSET
    status: TaskStatus | _Unset = UNSET
    priority: Priority | _Unset = UNSET
    planned_start: dt.datetime | _Unset | None = UNSET
    due: dt.datetime | _Unset | None = UNSET
    all_day: bool | _Unset = UNSET
    completed_at: dt.datetime | _Unset | None = UNSET
    responsible_id: int | _Unset = UNSET
    register_id: int | _Unset = UNSET
    customer_id: int | _Unset | None = UNSET
    contact_id: int | _Unset | None = UNSET
    parent_id: int | _Unset | None = UNSET
    visibility: Visibility | _Unset = UNSET
    recurrence: str | _Unset | None = UNSET
    categories: str | _Unset = UNSET
    opportunity: Opportunity | _Unset | None = UNSET

    def given(self) -> dict[str, Any]:
        """The fields that were set."""
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if getattr(self, f.name) is not UNSET
        }


def create_task(
    uow: UnitOfWork,
    *,
    register_id: int,
    subject: str,
    responsible_id: int | None = None,
    parent_id: int | None = None,
    changes: TaskChanges | None = None,
) -> Task:
    """Create a task numbered in its register; the responsible employee defaults to the
    register's default assignee, then to the actor.

    Raises:
        InvalidInput: a bad value (named), PermissionDenied: no edit right on the register.
    """
    session, actor = uow.session, uow.actor
    register = _register(session, register_id)
    access.require_register_level(session, actor, register.id, AccessLevel.EDIT)
    if parent_id is not None:
        access.readable_task(session, actor, parent_id)
    responsible = responsible_id or register.default_assignee_id or actor.employee_id
    if responsible is None:
        raise InvalidInput("responsible", "no responsible employee given and none by default")
    now = uow.now()
    task = Task(
        number=allocate_number(session, register, now.astimezone(NUMBERING_ZONE).year),
        register_id=register.id,
        subject=subject,
        description="",
        status=TaskStatus.NEW,
        priority=Priority.NORMAL,
        visibility=Visibility.NORMAL,
        all_day=False,
        responsible_id=responsible,
        creator_id=actor.employee_id,
        parent_id=parent_id,
        created_at=now,
        updated_at=now,
    )
    _apply(task, (changes or TaskChanges()).given(), now)
    _validate(session, task, new_responsible=True)
    session.add(task)
    session.flush()
    return task


def update_task(
    uow: UnitOfWork, task_id: int, changes: TaskChanges, *, expected_version: int | None = None
) -> Task:
    """Apply changes after the permission and version checks.

    Raises:
        Conflict: the task changed since ``expected_version`` or under a concurrent writer.
    """
    session, actor = uow.session, uow.actor
    task = access.editable_task(session, actor, task_id)
    if expected_version is not None and task.version != expected_version:
        raise Conflict(
            f"task {task.number} was changed by someone else",
            expected=expected_version,
            actual=task.version,
        )
    given = changes.given()
    if "register_id" in given and given["register_id"] != task.register_id:
        access.require_register_level(session, actor, given["register_id"], AccessLevel.EDIT)
    if given.get("parent_id") is not None:
        access.readable_task(session, actor, given["parent_id"])
    new_responsible = given.get("responsible_id", task.responsible_id) != task.responsible_id
    with session.no_autoflush:  # one UPDATE per change: one journal entry, one version step
        try:
            _apply(task, given, uow.now())
            _validate(session, task, new_responsible=new_responsible)
        except InvalidInput:
            session.expire(task)  # drop the refused values, so no later flush writes them
            raise
        task.updated_at = uow.now()
    number = task.number
    try:
        session.flush()
    except StaleDataError as exc:
        raise Conflict(f"task {number} was changed by someone else") from exc
    return task


def set_status(uow: UnitOfWork, task_id: int, status: TaskStatus) -> Task:
    """Complete, cancel, reopen or move a task through its statuses."""
    return update_task(uow, task_id, TaskChanges(status=status))


def add_subtask(
    uow: UnitOfWork,
    parent_id: int,
    *,
    subject: str,
    responsible_id: int | None = None,
    changes: TaskChanges | None = None,
) -> Task:
    """A sub-task in the parent's register (the tree of the seed)."""
    parent = access.readable_task(uow.session, uow.actor, parent_id)
    return create_task(
        uow,
        register_id=parent.register_id,
        subject=subject,
        responsible_id=responsible_id,
        parent_id=parent.id,
        changes=changes,
    )


def delete_task(uow: UnitOfWork, task_id: int) -> None:
    """Remove a task and its items (the journal keeps its history); sub-tasks must go first.

    Raises:
        Conflict: the task still has sub-tasks.
    """
    session = uow.session
    task = access.editable_task(session, uow.actor, task_id)
    if session.scalar(select(Task.id).where(Task.parent_id == task.id).limit(1)) is not None:
        raise Conflict(f"task {task.number} has sub-tasks; delete or move them first")
    session.delete(task)
    session.flush()


def _apply(task: Task, given: dict[str, Any], now: dt.datetime) -> None:
    opportunity = given.pop("opportunity", UNSET)
    if opportunity is not UNSET:
        opp = opportunity or Opportunity()
        task.opportunity_value = opp.value
        task.opportunity_probability = opp.probability
        task.opportunity_stage = opp.stage
        task.opportunity_expected_close = opp.expected_close
    status = given.get("status")
    if status is not None and status != task.status:
        given.setdefault("completed_at", now if status is TaskStatus.DONE else None)
    for name, value in given.items():
        setattr(task, name, value)


#: dates a write may set. Local times of the last day of year 9999 do not exist in zones east
#: of UTC, nor a day after it; a date the desktop application wrote outside the range (its
#: "never" of 9999-12-31) stays as long as nobody changes it.
EARLIEST: Final = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
LATEST: Final = dt.datetime(9999, 1, 1, tzinfo=dt.UTC)


def _validate(session: Session, task: Task, *, new_responsible: bool) -> None:
    subject = (task.subject or "").strip()
    if not subject:
        raise InvalidInput("subject", "must not be empty")
    if len(subject) > 500:
        raise InvalidInput("subject", "at most 500 characters")
    task.subject = subject
    state = inspect(task)
    for name in ("planned_start", "due", "completed_at"):
        value = getattr(task, name)
        if value is not None and value.tzinfo is None:
            raise InvalidInput(name, "a time zone is required")
        changed = state.attrs[name].history.has_changes()
        if changed and value is not None and not EARLIEST <= value < LATEST:
            raise InvalidInput(name, f"between {EARLIEST.year} and {LATEST.year - 1}")
    if task.planned_start and task.due and task.due < task.planned_start:
        raise InvalidInput("due", "the due date is before the planned start")
    if task.opportunity_probability is not None and not 0 <= task.opportunity_probability <= 100:
        raise InvalidInput("probability", "between 0 and 100")
    if task.opportunity_value is not None and task.opportunity_value < 0:
        raise InvalidInput("value", "must not be negative")
    _validate_references(session, task, new_responsible=new_responsible)
    if task.recurrence:
        try:
            rrulestr(task.recurrence, dtstart=task.planned_start or task.due)
        except (ValueError, TypeError) as exc:
            raise InvalidInput("recurrence", f"not an RRULE: {exc}") from exc


def _validate_references(session: Session, task: Task, *, new_responsible: bool) -> None:
    _register(session, task.register_id)
    responsible = session.get(Employee, task.responsible_id)
    if responsible is None or (new_responsible and not responsible.is_active):
        raise InvalidInput("responsible", "no such active employee")
    if task.customer_id is not None and session.get(Customer, task.customer_id) is None:
        raise InvalidInput("customer", f"no customer with id {task.customer_id}")
    if task.contact_id is not None:
        contact = session.get(ContactPerson, task.contact_id)
        if contact is None:
            raise InvalidInput("contact", f"no contact with id {task.contact_id}")
        if task.customer_id is None:
            task.customer_id = contact.customer_id
        elif contact.customer_id != task.customer_id:
            raise InvalidInput("contact", "the contact belongs to another customer")
    if task.parent_id is not None:
        _check_no_cycle(session, task)


def _check_no_cycle(session: Session, task: Task) -> None:
    """Walk up from the new parent; meeting the task itself means a cycle."""
    if session.get(Task, task.parent_id) is None:
        raise InvalidInput("parent", f"no task with id {task.parent_id}")
    seen: set[int] = set()
    current: int | None = task.parent_id
    while current is not None:
        if current == task.id or current in seen:
            raise InvalidInput("parent", "a task cannot be its own ancestor")
        seen.add(current)
        current = session.scalar(select(Task.parent_id).where(Task.id == current))


def _register(session: Session, register_id: int) -> Register:
    register = session.get(Register, register_id)
    if register is None or not register.is_active:
        raise InvalidInput("register", f"no active register with id {register_id}")
    return register
