"""The calendar projection: which collections hold a task, and their stored renderings.

Every collection's objects live in ``calendar_objects`` with the text clients get, an ETag and a
``modseq``. The projection follows the change journal, so a task written by the CLI, by e-mail
or with plain SQL by the desktop application is re-rendered on the next request that asks
(:func:`catch_up`); a CalDAV write refreshes it in its own transaction.

Collection keys and what they hold (one component type each):

* ``<login>/tasks``   VTODO  tasks the employee is responsible for or has been delegated;
* ``<login>/planned`` VEVENT the same tasks that have dates, coloured by register;
* ``register:<CODE>`` VTODO  every task of the register that is not private;
* ``group:<slug>``    VEVENT dated, non-private tasks of the group's members in registers every
  employee may read (tasks of restricted registers never reach a team calendar).

Cancelled tasks leave every collection (a tombstone stays, so sync reports the deletion). A task
gets a different UID in each collection (``hermes-<id>-<collection slug>@hermes-groupware``): one
account may see a task in several of its collections, and some clients refuse or merge equal
UIDs. ``RELATED-TO`` points at the parent only when the parent is in the same collection, so a
delegate of a sub-task can never learn the parent from it.

An employee's own collections (``<login>/tasks``, ``<login>/planned``) also carry that employee's
pop-up reminders as VALARMs; shared collections carry nobody's. Reminder rows are journaled, so
a reminder set, moved or dismissed anywhere re-renders the task like any other change.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Text, and_, bindparam, cast, func, or_, select, text, union
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter

from hermes_groupware.db.session import Actor, Database
from hermes_groupware.models import (
    CalendarObject,
    CalendarState,
    ContactPerson,
    Customer,
    CustomFieldDefinition,
    CustomFieldValue,
    Employee,
    Group,
    JournalCounter,
    Register,
    Task,
    TaskItem,
    group_members,
)
from hermes_groupware.models.enums import AccessLevel, ItemKind, Source, TaskStatus, Visibility
from hermes_groupware.models.reminder import ReminderChannel, TaskReminder
from hermes_groupware.services.reminders import trigger_time, zone_of
from sync import ical
from sync.journal import Change, changes_since

UID_DOMAIN = "hermes-groupware"
BATCH = 500
#: ``session.info`` key: (transaction, the state row it locked)
_LOCKED_STATE = "hermes_projection_locked_state"


@dataclass(frozen=True)
class ClientObject:
    """A client's PUT of a task: its text is the base of the stored rendering in its collection,
    and a task the client created keeps the client's href and UID there."""

    collection: str
    task_id: int
    href: str
    uid: str
    text: str


@dataclass
class _Context:
    """What one refresh needs, loaded in a few queries for a batch of tasks."""

    tasks: dict[int, Task] = field(default_factory=dict)
    registers: dict[int, Register] = field(default_factory=dict)
    logins: dict[int, str] = field(default_factory=dict)
    delegates: dict[int, set[int]] = field(default_factory=dict)
    groups: dict[int, set[str]] = field(default_factory=dict)
    customers: dict[int, str] = field(default_factory=dict)
    contacts: dict[int, str] = field(default_factory=dict)
    fields: dict[int, dict[str, str]] = field(default_factory=dict)
    zones: dict[int, str] = field(default_factory=dict)
    #: pop-up reminders by (task id, employee id)
    reminders: dict[tuple[int, int], list[TaskReminder]] = field(default_factory=dict)


def collection_slug(key: str) -> str:
    """``jkowalski/tasks`` -> ``tasks``; ``register:REK`` -> ``register-rek``."""
    if key.startswith(("register:", "group:")):
        kind, name = key.split(":", 1)
        return f"{kind}-{_slug_part(name)}"
    return key.split("/", 1)[1]


_SLUG_SAFE = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")


def _slug_part(name: str) -> str:
    """``name`` in lower case, any character but ASCII letters, digits and ``-`` written as
    ``_<hex code point>_``: the desktop application may write a register code like ``ZAŻ/1``
    straight into the database, and a URL path segment must stay one plain segment."""
    return "".join(c if c in _SLUG_SAFE else f"_{ord(c):x}_" for c in name.lower())


def component_of(key: str) -> str:
    """The one component type a collection holds (a register's code may end in ``/planned``)."""
    if key.startswith("register:"):
        return "VTODO"
    return "VEVENT" if key.endswith("/planned") or key.startswith("group:") else "VTODO"


def owner_of(key: str) -> str | None:
    """The login of an employee's own collection (``<login>/tasks``, ``<login>/planned``)."""
    login, _, slug = key.partition("/")
    return login if slug in ("tasks", "planned") and ":" not in login else None


def etag_of(text: str) -> str:
    """A strong ETag from the stored text."""
    return '"' + hashlib.sha256(text.encode("utf-8")).hexdigest()[:40] + '"'


def state(session: Session, *, lock: bool) -> CalendarState:
    """The projection's state row (locked: the projection writes are serialised on it).

    Pending changes of the session are flushed first (their journal entries then exist). A
    write catches up twice (before and after its change): the row it locked the first time
    is still locked, and is not read again within the same transaction.
    """
    held = session.info.get(_LOCKED_STATE)
    if lock and held is not None and held[0] is session.get_transaction():
        session.flush()
        locked: CalendarState = held[1]
        return locked
    query = select(CalendarState).where(CalendarState.id == 1)
    row = session.scalar(query.with_for_update() if lock else query)
    if row is None:
        raise RuntimeError("calendar_state is missing: run hermes-groupware db upgrade")
    if lock:  # the query began the transaction if none was open
        session.info[_LOCKED_STATE] = (session.get_transaction(), row)
    return row


def is_behind(executor: Session | Connection) -> bool:
    """Whether the journal or the directory moved since the projection last caught up.

    One small statement, so the check that starts every CalDAV request is cheap.
    """
    return behind(executor.execute(POSITION).one())


def behind(row: Any) -> bool:
    """Whether a row with the :data:`POSITION` columns shows the projection behind."""
    return bool(row.last_seq > row.applied_seq or row.directory_version != row.projected_directory)


#: the journal's and the projection's positions, one row; built once since it runs before
#: every CalDAV request (a read may add columns and join its own rows to it)
POSITION = (
    select(
        JournalCounter.last_seq,
        JournalCounter.directory_version,
        CalendarState.applied_seq,
        CalendarState.directory_version.label("projected_directory"),
    )
    .join(CalendarState, CalendarState.id == JournalCounter.id)  # both single rows, id 1
    .where(JournalCounter.id == 1)
)


def catch_up(
    session: Session,
    now: dt.datetime,
    overrides: Sequence[ClientObject] = (),
    *,
    max_entries: int | None = None,
    directory: bool = True,
) -> bool:
    """Apply journal entries since the last run (O(changes)); call in a write transaction.

    With ``max_entries`` it stops after about that many entries, so a huge import can be
    applied in several short transactions. A change of the directory (group membership,
    register names or colours) then re-renders every task, ``max_entries`` tasks per call.
    Writers pass ``directory=False``: they apply the journal (their own change included) but
    leave that pass to readers, so a write never waits for a whole re-render.
    Returns True when the projection is current (writers: when the journal is applied).
    """
    current = state(session, lock=True)  # (its query flushes the caller's pending changes)
    with session.no_autoflush:  # the state row's new position goes out with the objects
        done = _apply_journal(session, current, now, overrides, max_entries)
        if done and directory:
            done = _apply_directory(session, current, now, max_entries)
    session.flush()
    return done


def catch_up_in_steps(
    database: Database, actor: Actor, *, max_entries: int, deadline: float | None = None
) -> bool:
    """:func:`catch_up` in transactions of ``max_entries`` until current or past ``deadline``
    (``time.monotonic``), so a big backlog never holds a long lock. A backlog (a second step)
    refreshes the planner's statistics. True when current."""
    step = 0
    while deadline is None or time.monotonic() < deadline:
        step += 1
        with database.unit_of_work(actor, Source.SYSTEM) as uow:
            done = catch_up(uow.session, uow.now(), max_entries=max_entries)
            if step == 2:  # the row counts the planner knows are out of date
                refresh_statistics(uow.session)
        if done:
            return True
    return False


def refresh_statistics(session: Session) -> None:
    """After a large catch-up, on PostgreSQL: ANALYZE the objects, instead of waiting for
    autovacuum. With the row counts of an emptier table the planner read a whole collection
    for every multiget (a 10,000-item list: 27 ms a request instead of 0.3 ms)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("ANALYZE calendar_objects"))


def _apply_journal(
    session: Session,
    current: CalendarState,
    now: dt.datetime,
    overrides: Sequence[ClientObject],
    max_entries: int | None,
) -> bool:
    applied = 0
    done = False
    while max_entries is None or applied < max_entries:
        room = BATCH * 4 if max_entries is None else min(BATCH * 4, max_entries - applied)
        changes = changes_since(session, current.applied_seq, limit=room)
        if not changes:
            done = True
            break
        task_ids = {c.task_id for c in changes}
        # a task inserted just now has no children yet (they would have entries of their own)
        older = {c.task_id for c in changes if (c.entity, c.op) != ("task", "insert")}
        task_ids |= set(_children_of(session, older)) if older else set()
        task_ids |= {o.task_id for o in overrides}
        current.applied_seq = changes[-1].seq
        _refresh(session, current, sorted(task_ids), now, overrides, bare=_bare(changes))
        applied += len(changes)
        overrides = ()  # applied with the journal entries they belong to
        if len(changes) < room:  # the end of the journal: no need to ask again
            done = True
            break
    if overrides:
        _refresh(session, current, sorted({o.task_id for o in overrides}), now, overrides)
    return done


def _bare(changes: Sequence[Change]) -> set[int]:
    """Tasks inserted since the last catch-up with no other row journaled: their delegations,
    reminders and custom values (rows that need the task first, each with an entry of its own)
    do not exist yet, and are not read (three statements of a PUT of a new item)."""
    inserted = {c.task_id for c in changes if (c.entity, c.op) == ("task", "insert")}
    return inserted - {c.task_id for c in changes if c.entity != "task"}


def _apply_directory(
    session: Session, current: CalendarState, now: dt.datetime, limit: int | None
) -> bool:
    """Carry on re-rendering every task (in id order, ``limit`` per call) for the newest
    directory version; a change during the pass starts it over. True once it is complete."""
    target = session.scalar(select(JournalCounter.directory_version)) or 0
    if target == current.directory_version:
        return True
    if current.rerender_version != target:
        current.rerender_version, current.rerender_cursor = target, 0
    task_ids = _task_ids_after(session, current.rerender_cursor, limit)
    _refresh(session, current, task_ids, now, ())
    if limit is not None and len(task_ids) == limit:
        current.rerender_cursor = task_ids[-1]
        return False
    current.directory_version = target
    return True


def _task_ids_after(session: Session, after: int, limit: int | None) -> list[int]:
    """Tasks, and tasks that left objects behind, with an id above ``after``."""
    ids = union(
        select(Task.id.label("id")).where(Task.id > after),
        select(CalendarObject.task_id.label("id")).where(CalendarObject.task_id > after),
    ).subquery()
    return list(session.scalars(select(ids.c.id).order_by(ids.c.id).limit(limit)))


def _children_of(session: Session, task_ids: set[int]) -> Iterable[int]:
    """Children re-render when their parent enters or leaves a collection (RELATED-TO)."""
    return session.scalars(select(Task.id).where(Task.parent_id.in_(task_ids)))


def _refresh(
    session: Session,
    current: CalendarState,
    task_ids: Sequence[int],
    now: dt.datetime,
    overrides: Sequence[ClientObject],
    *,
    bare: AbstractSet[int] = frozenset(),
) -> None:
    clients = {(o.collection, o.task_id): o for o in overrides}
    refresher = _Refresher(session, current, now, clients, bare)
    for start in range(0, len(task_ids), BATCH):
        refresher.batch(task_ids[start : start + BATCH])


@dataclass
class _Refresher:
    """Brings the objects of a batch of tasks in line with the tasks' current state.

    Everything a batch needs is loaded up front (objects, tombstones, parents' objects) and
    written in one flush, so a large catch-up is a few queries per 500 tasks.
    """

    session: Session
    current: CalendarState
    now: dt.datetime
    clients: dict[tuple[str, int], ClientObject]
    bare: AbstractSet[int]  # see _bare
    by_place: dict[tuple[str, str], CalendarObject] = field(default_factory=dict)
    by_task: dict[tuple[str, int], CalendarObject] = field(default_factory=dict)

    def batch(self, task_ids: Sequence[int]) -> None:
        context = _load(self.session, task_ids, self.bare)
        parents = {t.parent_id for t in context.tasks.values() if t.parent_id is not None}
        with self.session.no_autoflush:
            wanted = CalendarObject.task_id.in_([*task_ids, *parents])
            # a client's href may hold another object (a tombstone): read with the others
            places = [
                and_(CalendarObject.collection == c.collection, CalendarObject.href == c.href)
                for (_, task_id), c in self.clients.items()
                if task_id in task_ids
            ]
            for obj in self.session.scalars(select(CalendarObject).where(or_(wanted, *places))):
                self.remember(obj)
            in_batch = set(task_ids)
            existing: dict[int, dict[str, CalendarObject]] = {}
            for (key, task_id), obj in self.by_task.items():
                if task_id in in_batch:
                    existing.setdefault(task_id, {})[key] = obj
            # parents first, so a child in the same batch finds its parent's object
            for task_id in sorted(task_ids, key=lambda t: _parent_in(context, t, in_batch)):
                self.task(context, task_id, existing.get(task_id, {}))
        self.session.flush()

    def remember(self, obj: CalendarObject) -> None:
        self.by_place[(obj.collection, obj.href)] = obj
        if not obj.deleted and obj.task_id is not None:
            self.by_task[(obj.collection, obj.task_id)] = obj

    def task(self, context: _Context, task_id: int, objects: dict[str, CalendarObject]) -> None:
        wanted = _membership(context, task_id)
        for key, obj in objects.items():
            if key not in wanted:
                self.tombstone(obj)
        task = context.tasks.get(task_id)
        if task is None:
            return
        data = _task_data(context, task)
        for key in sorted(wanted):
            client = self.clients.get((key, task_id))
            obj = objects.get(key) or self.new_object(key, task_id, client)
            parent = self.by_task.get((key, task.parent_id or 0))
            placement = ical.Placement(
                uid=obj.uid,
                component=component_of(key),
                parent_uid=parent.uid if parent else None,
                alarms=_alarms(context, task, key),
            )
            text = ical.render(data, placement, client.text if client else obj.body, self.now)
            # ranges are derived data: kept current even when the text did not change
            obj.start_ts, obj.end_ts = ical.time_range(data, placement.component)
            if text != obj.body:
                obj.body, obj.etag, obj.modseq = text, etag_of(text), self.next_modseq()
                # what a "COMPLETED is-not-defined" filter tests: the property in the text
                obj.completed = "\nCOMPLETED" in text
                obj.last_modified = self.now

    def next_modseq(self) -> int:
        self.current.last_modseq += 1
        return self.current.last_modseq

    def new_object(self, key: str, task_id: int, client: ClientObject | None) -> CalendarObject:
        href = client.href if client else f"hermes-{task_id}.ics"
        uid = client.uid if client else f"hermes-{task_id}-{collection_slug(key)}@{UID_DOMAIN}"
        old = self.by_place.get((key, href))  # a client's href was read with the batch
        if old is not None:  # a tombstone: the task came back (reassigned back, reopened)
            old.deleted, old.task_id, old.uid = False, task_id, uid
            self.remember(old)
            return old
        obj = CalendarObject(
            collection=key,
            href=href,
            uid=uid,
            task_id=task_id,
            component=component_of(key),
            body=None,
            etag='""',
            modseq=self.next_modseq(),
            deleted=False,
            completed=False,
            last_modified=self.now,
        )
        self.session.add(obj)
        self.remember(obj)
        return obj

    def tombstone(self, obj: CalendarObject) -> None:
        obj.deleted, obj.body, obj.etag = True, None, '""'
        obj.modseq, obj.last_modified = self.next_modseq(), self.now
        self.by_task.pop((obj.collection, obj.task_id or 0), None)


def _parent_in(context: _Context, task_id: int, batch: set[int]) -> bool:
    task = context.tasks.get(task_id)
    return task is not None and task.parent_id in batch


def _membership(context: _Context, task_id: int) -> set[str]:
    task = context.tasks.get(task_id)
    if task is None or task.status is TaskStatus.CANCELLED:
        return set()
    register = context.registers[task.register_id]
    people = {task.responsible_id} | context.delegates.get(task_id, set())
    dated = task.planned_start is not None or task.due is not None
    keys = {f"{context.logins[p]}/tasks" for p in people if p in context.logins}
    if dated:
        keys |= {f"{context.logins[p]}/planned" for p in people if p in context.logins}
    if task.visibility is Visibility.NORMAL:
        keys.add(f"register:{register.code}")
        if dated and AccessLevel(register.default_access) is not AccessLevel.NONE:
            keys |= {f"group:{g}" for g in context.groups.get(task.responsible_id, set())}
    return keys


def _alarms(context: _Context, task: Task, key: str) -> ical.Alarms | None:
    """The owner's pop-up reminders, in the owner's own collections only."""
    login = owner_of(key)
    if login is None:
        return None
    employee_id = next((i for i, name in context.logins.items() if name == login), None)
    reminders = context.reminders.get((task.id, employee_id or 0), [])
    zone = zone_of(context.zones.get(employee_id or 0))
    items = [a for a in (alarm_of(r, task, zone) for r in reminders) if a is not None]
    acknowledged = [r.acknowledged_at for r in reminders if r.acknowledged_at is not None]
    snoozed = [r.snoozed_until for r in reminders if r.snoozed_until is not None]
    return ical.Alarms(
        items=tuple(items),
        last_ack=max(acknowledged, default=None),
        snooze=max(snoozed, default=None),
    )


def alarm_of(reminder: TaskReminder, task: Task, zone: ZoneInfo) -> ical.AlarmData | None:
    """A pop-up reminder as a VALARM to render; None while the task lacks the date."""
    at = trigger_time(reminder, task, zone)
    if at is None:
        return None
    return ical.AlarmData(
        uid=ical.alarm_uid(reminder.id, UID_DOMAIN),
        description=reminder.note or task.subject,
        at=at,
        relative_to=reminder.relative_to.value if reminder.relative_to else None,
        offset_minutes=reminder.offset_minutes,
        acknowledged=reminder.acknowledged_at,
    )


#: the statements of :func:`_load`, built once: a write renders its task through them, and
#: building a statement costs about as much as running it on SQLite
_TASK_IDS: BindParameter[list[int]] = bindparam("task_ids", expanding=True)
_PEOPLE: BindParameter[list[int]] = bindparam("people", expanding=True)
_LOAD_TASKS = select(Task).where(Task.id.in_(_TASK_IDS))
_LOAD_REGISTERS = select(Register).where(Register.id.in_(bindparam("ids", expanding=True)))
_LOAD_DELEGATES = select(TaskItem.task_id, TaskItem.delegate_id).where(
    TaskItem.task_id.in_(_TASK_IDS),
    TaskItem.kind == ItemKind.DELEGATION,
    TaskItem.revoked_at.is_(None),
)
_LOAD_PEOPLE = select(Employee).where(Employee.id.in_(bindparam("ids", expanding=True)))
_LOAD_REMINDERS = (
    select(TaskReminder)
    .where(
        TaskReminder.task_id.in_(_TASK_IDS),
        TaskReminder.employee_id.in_(_PEOPLE),
        TaskReminder.channel == ReminderChannel.POPUP,
    )
    .order_by(TaskReminder.id)
)
_LOAD_GROUPS = (
    select(group_members.c.employee_id, Group.slug)
    .join(Group, Group.id == group_members.c.group_id)
    .where(group_members.c.employee_id.in_(_PEOPLE))
)
_LOAD_CUSTOMERS = select(Customer.id, Customer.name).where(
    Customer.id.in_(bindparam("customers", expanding=True))
)
_LOAD_CONTACTS = select(ContactPerson).where(
    ContactPerson.id.in_(bindparam("contacts", expanding=True))
)
_LOAD_FIELDS = (
    select(
        CustomFieldValue.task_id,
        CustomFieldDefinition.key,
        func.coalesce(
            CustomFieldValue.value_text,
            cast(CustomFieldValue.value_number, Text),
            cast(CustomFieldValue.value_date, Text),
        ),
    )
    .join(CustomFieldDefinition, CustomFieldDefinition.id == CustomFieldValue.field_id)
    .where(CustomFieldValue.task_id.in_(_TASK_IDS))
)


def _load(
    session: Session, task_ids: Sequence[int], bare: AbstractSet[int] = frozenset()
) -> _Context:
    """What rendering ``task_ids`` needs; no delegations, reminders or custom values are read
    for ``bare`` tasks (see :func:`_bare`)."""
    context = _Context()
    ids = {"task_ids": list(task_ids)}
    context.tasks = {t.id: t for t in session.scalars(_LOAD_TASKS, ids)}
    context.registers = _loaded(
        session, Register, {t.register_id for t in context.tasks.values()}, _LOAD_REGISTERS
    )
    dressed = [t for t in task_ids if t not in bare]  # may have rows of their own
    if dressed:
        for task_id, delegate_id in session.execute(_LOAD_DELEGATES, {"task_ids": dressed}):
            if delegate_id is not None:
                context.delegates.setdefault(task_id, set()).add(delegate_id)
    people = {t.responsible_id for t in context.tasks.values()}
    people |= {d for ds in context.delegates.values() for d in ds}
    by_people = {"people": list(people)}
    for employee in _loaded(session, Employee, people, _LOAD_PEOPLE).values():
        if employee.is_active:
            context.logins[employee.id] = employee.login
            context.zones[employee.id] = employee.time_zone
    if dressed:
        with_people = {"task_ids": dressed} | by_people
        for reminder in session.scalars(_LOAD_REMINDERS, with_people):
            whose = (reminder.task_id, reminder.employee_id)
            context.reminders.setdefault(whose, []).append(reminder)
    for employee_id, slug in session.execute(_LOAD_GROUPS, by_people):
        context.groups.setdefault(employee_id, set()).add(slug)
    _load_parties(session, context)
    if dressed:
        for task_id, key, value in session.execute(_LOAD_FIELDS, {"task_ids": dressed}):
            if value is not None:
                context.fields.setdefault(task_id, {})[key] = str(value)
    return context


def _load_parties(session: Session, context: _Context) -> None:
    """The tasks' customers and contacts (a task a client just created has neither: no
    statement for an empty list)."""
    customer_ids = list({t.customer_id for t in context.tasks.values() if t.customer_id})
    if customer_ids:
        found = session.execute(_LOAD_CUSTOMERS, {"customers": customer_ids})
        context.customers = {customer_id: name for customer_id, name in found}
    contact_ids = list({t.contact_id for t in context.tasks.values() if t.contact_id})
    for contact in (
        session.scalars(_LOAD_CONTACTS, {"contacts": contact_ids}) if contact_ids else ()
    ):
        email = f" <{contact.email}>" if contact.email else ""
        context.contacts[contact.id] = contact.full_name + email


def _loaded(session: Session, model: Any, ids: set[int], statement: Any) -> dict[int, Any]:
    """Objects by id: those the transaction has loaded already (a write, its register and
    employee) from the session, the rest in one statement."""
    found, missing = {}, []
    for object_id in ids:
        obj = session.identity_map.get(Session.identity_key(model, object_id))
        if obj is None:
            missing.append(object_id)
        else:
            found[object_id] = obj
    if missing:
        found |= {obj.id: obj for obj in session.scalars(statement, {"ids": missing})}
    return found


def task_data_for(session: Session, task_ids: Sequence[int]) -> dict[int, ical.TaskData]:
    """Rendering input for tasks the caller has already checked (feeds use it)."""
    found: dict[int, ical.TaskData] = {}
    for start in range(0, len(task_ids), BATCH):
        context = _load(session, task_ids[start : start + BATCH])
        found |= {tid: _task_data(context, task) for tid, task in context.tasks.items()}
    return found


def _task_data(context: _Context, task: Task) -> ical.TaskData:
    register = context.registers[task.register_id]
    return ical.TaskData(
        task_id=task.id,
        number=task.number,
        subject=task.subject,
        description=task.description or "",
        status=TaskStatus(task.status).value,
        priority=str(task.priority),
        planned_start=task.planned_start,
        due=task.due,
        all_day=task.all_day,
        completed_at=task.completed_at,
        created_at=task.created_at,
        updated_at=task.updated_at,
        register_code=register.code,
        register_name=register.name,
        register_colour=register.colour,
        customer=context.customers.get(task.customer_id or 0),
        contact=context.contacts.get(task.contact_id or 0),
        categories=tuple(c.strip() for c in (task.categories or "").split(",") if c.strip()),
        private=task.visibility is Visibility.PRIVATE,
        custom_fields=context.fields.get(task.id, {}),
    )


# --------------------------------------------------------------------------- reading


def sync_token(epoch: str, modseq: int) -> str:
    """The opaque token handed to clients."""
    return f"urn:hermes:sync:{epoch}:{modseq}"


def parse_sync_token(token: str, epoch: str) -> int:
    """The modseq in a token of this epoch; ValueError for anything else (client resyncs)."""
    prefix = f"urn:hermes:sync:{epoch}:"
    if not token.startswith(prefix) or not token[len(prefix) :].isdigit():
        raise ValueError(f"unknown or outdated sync token {token!r}")
    return int(token[len(prefix) :])


def collection_modseq(session: Session, key: str) -> int:
    """The newest change in a collection (an index-only lookup)."""
    return (
        session.scalar(
            select(func.max(CalendarObject.modseq)).where(CalendarObject.collection == key)
        )
        or 0
    )


def changed_hrefs(session: Session, key: str, since: int) -> list[str]:
    """Hrefs created, changed or deleted after ``since`` (O(changes))."""
    return list(
        session.scalars(
            select(CalendarObject.href).where(
                and_(CalendarObject.collection == key, CalendarObject.modseq > since)
            )
        )
    )
