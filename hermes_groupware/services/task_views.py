"""Read models of tasks: permission-filtered lists and the full detail with items and history."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import Row, Select, select
from sqlalchemy.orm import Session, aliased

from hermes_groupware.db.session import UnitOfWork
from hermes_groupware.models import (
    ContactPerson,
    Customer,
    Employee,
    Register,
    StoredFile,
    Task,
    TaskHistory,
    TaskItem,
)
from hermes_groupware.models.enums import AccessLevel, ItemKind, TaskStatus
from hermes_groupware.services import access, custom_fields
from hermes_groupware.services.custom_fields import Value
from hermes_groupware.services.lookups import employee_by_login, logins_by_id, register_by_code
from hermes_groupware.services.view_filter import overdue_clause


@dataclass(frozen=True)
class TaskFilter:
    """What ``task list`` can narrow by; all given conditions must hold."""

    register: str | None = None
    assignee: str | None = None
    status: TaskStatus | None = None
    overdue: bool = False
    customer_id: int | None = None
    search: str | None = None
    limit: int | None = None
    due_before: dt.datetime | None = None
    due_after: dt.datetime | None = None


@dataclass(frozen=True)
class TaskSummary:
    """One row of a task list; ``parent`` is None when the actor may not see the parent."""

    id: int
    number: str
    register: str
    subject: str
    status: str
    priority: str
    planned_start: dt.datetime | None
    due: dt.datetime | None
    all_day: bool
    completed_at: dt.datetime | None
    responsible: str
    customer: str | None
    parent: str | None
    overdue: bool
    version: int


@dataclass(frozen=True)
class ItemView:
    """A note, file, document link or delegation, flattened for display."""

    id: int
    kind: str
    author: str | None
    source: str
    created_at: dt.datetime
    body: str | None = None
    filename: str | None = None
    content_type: str | None = None
    size: int | None = None
    sha256: str | None = None
    document: str | None = None
    amount: Decimal | None = None
    currency: str | None = None
    delegate: str | None = None
    mode: str | None = None
    revoked_at: dt.datetime | None = None


@dataclass(frozen=True)
class HistoryEntry:
    """One field change; ids are shown as logins, codes, numbers and names."""

    seq: int
    field: str
    old: str | None
    new: str | None
    source: str
    actor: str | None
    changed_at: dt.datetime


@dataclass(frozen=True)
class TaskDetail:
    """Everything ``task show`` prints."""

    task: TaskSummary
    description: str
    creator: str | None
    contact: str | None
    visibility: str
    recurrence: str | None
    opportunity: dict[str, object] | None
    custom_fields: dict[str, Value]
    notes: list[ItemView] = field(default_factory=list)
    files: list[ItemView] = field(default_factory=list)
    documents: list[ItemView] = field(default_factory=list)
    delegations: list[ItemView] = field(default_factory=list)
    subtasks: list[TaskSummary] = field(default_factory=list)
    history: list[HistoryEntry] = field(default_factory=list)


def local_text(value: dt.datetime | None, all_day: bool, zone: ZoneInfo) -> str | None:
    """A task date as people read it: a date for all-day tasks, else a time in their zone."""
    if value is None:
        return None
    return value.date().isoformat() if all_day else f"{value.astimezone(zone):%Y-%m-%d %H:%M}"


def _summary_query() -> Select[Task, str, str, str]:
    return (
        select(Task, Register.code, Employee.login, Customer.name)
        .join(Register, Register.id == Task.register_id)
        .join(Employee, Employee.id == Task.responsible_id)
        .outerjoin(Customer, Customer.id == Task.customer_id)
    )


def list_tasks(uow: UnitOfWork, flt: TaskFilter) -> list[TaskSummary]:
    """Tasks the actor may see, ordered by due date (open ends last) and number."""
    query = _filtered(uow, flt)
    query = query.order_by(Task.due.is_(None), Task.due, Task.number).limit(flt.limit)
    rows = uow.session.execute(query).all()
    return _summaries(uow.session, uow, rows, uow.now())


def page_tasks(
    uow: UnitOfWork, flt: TaskFilter, *, after_id: int | None, limit: int
) -> list[TaskSummary]:
    """Up to ``limit`` visible tasks in id order after ``after_id`` (keyset paging for the
    HTTP API: ids only grow, so rows written between pages are neither skipped nor repeated)."""
    query = _filtered(uow, flt)
    if after_id is not None:
        query = query.where(Task.id > after_id)
    rows = uow.session.execute(query.order_by(Task.id).limit(limit)).all()
    return _summaries(uow.session, uow, rows, uow.now())


def _filtered(uow: UnitOfWork, flt: TaskFilter) -> Select[Task, str, str, str]:
    session, now = uow.session, uow.now()
    query = _summary_query().where(
        access.visible_tasks_clause(session, uow.actor, AccessLevel.READ)
    )
    if flt.register:
        query = query.where(Task.register_id == register_by_code(session, flt.register).id)
    if flt.assignee:
        query = query.where(
            Task.responsible_id == employee_by_login(session, flt.assignee, field="assignee").id
        )
    if flt.status:
        query = query.where(Task.status == flt.status)
    if flt.customer_id is not None:
        query = query.where(Task.customer_id == flt.customer_id)
    if flt.search:
        query = query.where(Task.subject.ilike(f"%{flt.search}%"))
    if flt.overdue:
        query = query.where(overdue_clause(now))
    if flt.due_before is not None:
        query = query.where(Task.due < flt.due_before)
    if flt.due_after is not None:
        query = query.where(Task.due >= flt.due_after)
    return query


def _summaries(
    session: Session,
    uow: UnitOfWork,
    rows: Sequence[Row[Task, str, str, str]],
    now: dt.datetime,
) -> list[TaskSummary]:
    parent_ids = {task.parent_id for task, *_ in rows if task.parent_id is not None}
    visible_parents: dict[int, str] = {}
    if parent_ids:
        clause = access.visible_tasks_clause(session, uow.actor, AccessLevel.READ)
        visible_parents = {
            task_id: number
            for task_id, number in session.execute(
                select(Task.id, Task.number).where(Task.id.in_(parent_ids), clause)
            )
        }
    return [
        TaskSummary(
            id=task.id,
            number=task.number,
            register=code,
            subject=task.subject,
            status=TaskStatus(task.status).value,
            priority=str(task.priority),
            planned_start=task.planned_start,
            due=task.due,
            all_day=task.all_day,
            completed_at=task.completed_at,
            responsible=login,
            customer=customer,
            parent=visible_parents.get(task.parent_id) if task.parent_id else None,
            overdue=task.is_overdue(now),
            version=task.version,
        )
        for task, code, login, customer in rows
    ]


def task_detail(uow: UnitOfWork, task_id: int) -> TaskDetail:
    """The task with notes, files, documents, delegations, visible sub-tasks and history.

    Raises:
        NotFound: the task does not exist or the actor may not see it.
    """
    session, now = uow.session, uow.now()
    task = access.readable_task(session, uow.actor, task_id)
    row = session.execute(_summary_query().where(Task.id == task.id)).one()
    summary = _summaries(session, uow, [row], now)[0]
    clause = access.visible_tasks_clause(session, uow.actor, AccessLevel.READ)
    children = session.execute(
        _summary_query().where(Task.parent_id == task.id, clause).order_by(Task.number)
    ).all()
    items = _items(session, task.id)
    names = _Names(session, uow)
    contact = session.get(ContactPerson, task.contact_id) if task.contact_id else None
    return TaskDetail(
        task=summary,
        description=task.description,
        creator=names.login(task.creator_id),
        contact=contact.full_name if contact else None,
        visibility=str(task.visibility),
        recurrence=task.recurrence,
        opportunity=_opportunity(task),
        custom_fields=custom_fields.values_of(uow, task.id),
        notes=[i for i in items if i.kind == ItemKind.NOTE],
        files=[i for i in items if i.kind == ItemKind.FILE],
        documents=[i for i in items if i.kind == ItemKind.DOCUMENT],
        delegations=[i for i in items if i.kind == ItemKind.DELEGATION],
        subtasks=_summaries(session, uow, list(children), now),
        history=_history(session, task.id, names),
    )


def _opportunity(task: Task) -> dict[str, object] | None:
    if task.opportunity_value is None and task.opportunity_stage is None:
        return None
    return {
        "value": task.opportunity_value,
        "probability": task.opportunity_probability,
        "stage": task.opportunity_stage,
        "expected_close": task.opportunity_expected_close,
    }


def _items(session: Session, task_id: int) -> list[ItemView]:
    author, delegate = aliased(Employee), aliased(Employee)
    rows = session.execute(
        select(TaskItem, author.login, delegate.login, StoredFile)
        .outerjoin(author, author.id == TaskItem.author_id)
        .outerjoin(delegate, delegate.id == TaskItem.delegate_id)
        .outerjoin(StoredFile, StoredFile.id == TaskItem.file_id)
        .where(TaskItem.task_id == task_id)
        .order_by(TaskItem.created_at, TaskItem.id)
    ).all()
    return [
        ItemView(
            id=item.id,
            kind=str(item.kind),
            author=author_login,
            source=str(item.source),
            created_at=item.created_at,
            body=item.body,
            filename=item.filename,
            content_type=item.content_type,
            size=blob.size if blob else None,
            sha256=blob.sha256 if blob else None,
            document=f"{item.document_type} {item.document_number}"
            if item.document_number
            else None,
            amount=item.document_amount,
            currency=item.currency,
            delegate=delegate_login,
            mode=str(item.delegation_mode) if item.delegation_mode else None,
            revoked_at=item.revoked_at,
        )
        for item, author_login, delegate_login, blob in rows
    ]


class _Names:
    """Turns ids in history values into what people recognise, hiding invisible tasks."""

    def __init__(self, session: Session, uow: UnitOfWork) -> None:
        self.session, self.uow = session, uow
        self._logins: dict[int, str] = {}

    def login(self, employee_id: int | None) -> str | None:
        """A login, looked up once per task view (history repeats the same few actors)."""
        if employee_id is None:
            return None
        if employee_id not in self._logins:
            self._logins |= logins_by_id(self.session, (employee_id,))
        return self._logins.get(employee_id)

    def _by_id(self, raw: str | None, lookup: Callable[[int], str | None]) -> str | None:
        if raw is None or not raw.isdigit():
            return raw
        return lookup(int(raw))

    def translate(self, field_name: str, raw: str | None) -> str | None:
        s = self.session
        lookups: dict[str, Callable[[int], str | None]] = {
            "responsible_id": self.login,
            "register_id": lambda i: s.scalar(select(Register.code).where(Register.id == i)),
            "customer_id": lambda i: s.scalar(select(Customer.name).where(Customer.id == i)),
            "contact_id": lambda i: c.full_name if (c := s.get(ContactPerson, i)) else None,
            "parent_id": self._parent_number,
        }
        lookup = lookups.get(field_name)
        return self._by_id(raw, lookup) if lookup else raw

    def _parent_number(self, task_id: int) -> str | None:
        if not access.can_see(self.session, self.uow.actor, task_id):
            return None  # hidden parent: the delegate must not learn it from history either
        return self.session.scalar(select(Task.number).where(Task.id == task_id))


def _history(session: Session, task_id: int, names: _Names) -> list[HistoryEntry]:
    rows = session.scalars(
        select(TaskHistory).where(TaskHistory.task_id == task_id).order_by(TaskHistory.id)
    )
    return [
        HistoryEntry(
            seq=h.seq,
            field=h.field,
            old=names.translate(h.field, h.old_value),
            new=names.translate(h.field, h.new_value),
            source=h.source,
            actor=names.login(h.actor_id),
            changed_at=h.changed_at,
        )
        for h in rows
    ]
