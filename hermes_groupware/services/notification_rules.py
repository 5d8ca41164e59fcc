"""Notification rules: saving them (validated) and turning changes into notices.

A notice says "tell these people about this event on this task"; rendering and sending are
the mail gateway's job. :func:`journal_notices` reads the change journal from the evaluator's
cursor, which the caller advances with :func:`advance` in the same transaction as the outbox
rows it writes, so each change is evaluated exactly once whatever wrote it — CalDAV, e-mail,
CLI or the desktop application's plain SQL. :func:`timed_notices` claims one firing per
(rule, task, occurrence) for due-soon and overdue, safe with several instances.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, object_session

from hermes_groupware.db.session import Actor, UnitOfWork
from hermes_groupware.db.upsert import insert_unless_present
from hermes_groupware.errors import InvalidInput, NotFound
from hermes_groupware.models import (
    ChangeJournal,
    ContactPerson,
    CustomFieldDefinition,
    CustomFieldValue,
    Employee,
    Group,
    NotificationCursor,
    NotificationFiring,
    NotificationRule,
    Register,
    Task,
    TaskHistory,
    TaskItem,
    group_members,
)
from hermes_groupware.models.enums import (
    OPEN_STATUSES,
    DelegationMode,
    ItemKind,
    NotificationChannel,
    NotificationEvent,
    Priority,
    TaskStatus,
    Visibility,
)
from hermes_groupware.rule_syntax import RuleLine
from hermes_groupware.services import access, audit
from hermes_groupware.services.absences import stand_ins
from hermes_groupware.services.directory import actor_for
from hermes_groupware.services.lookups import customer_by_id, register_by_code
from hermes_groupware.services.registers import validate_email

_ROLES = ("assignee", "creator", "watchers", "manager", "contact")
_LOGIN = re.compile(r"^[a-z][a-z0-9._-]{1,63}$")
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


@dataclass(frozen=True)
class RuleSpec:
    """What an admin states about a rule."""

    name: str
    event: NotificationEvent
    recipients: tuple[str, ...]
    channel: NotificationChannel = NotificationChannel.EMAIL
    register: str | None = None
    customer_id: int | None = None
    priority: Priority | None = None
    from_status: TaskStatus | None = None
    to_status: TaskStatus | None = None
    lead_minutes: int | None = None
    at_local_time: str | None = None
    notify_actor: bool = False
    field: tuple[str, str] | None = None  # custom field key and the value it must have


@dataclass(frozen=True)
class Recipient:
    """Someone to tell: an employee (who must be able to see the task), a contact, an address."""

    kind: str  # "employee" | "contact" | "address"
    id: int | None
    name: str
    email: str | None
    phone: str | None
    locale: str


@dataclass(frozen=True)
class Notice:
    """One event on one task for one rule's recipients."""

    rule_id: int
    rule_name: str
    channel: NotificationChannel
    event: NotificationEvent
    task_id: int
    recipients: tuple[Recipient, ...]
    changes: tuple[tuple[str, str | None, str | None], ...] = ()
    item_id: int | None = None
    actor_id: int | None = None

    @classmethod
    def of(
        cls, rule: NotificationRule, task_id: int, recipients: list[Recipient], **details: Any
    ) -> Notice:
        """A notice of this rule's event."""
        return cls(
            rule_id=rule.id,
            rule_name=rule.name,
            channel=NotificationChannel(rule.channel),
            event=NotificationEvent(rule.event),
            task_id=task_id,
            recipients=tuple(recipients),
            **details,
        )


# --- rules --------------------------------------------------------------------------------


def validate_recipient(session: Session, spec: str) -> str:
    """A recipient spec, normalised; InvalidInput names what is wrong when it is not one."""
    spec = spec.strip()
    kind, _, value = spec.partition(":") if ":" in spec else ("", "", spec)
    if not kind and spec.lower() in _ROLES:
        return spec.lower()
    if kind == "email" or (not kind and "@" in spec):
        return "email:" + validate_email(value or spec, field="to")
    if kind == "group" or (not kind and session.scalar(select(Group.id).where(Group.slug == spec))):
        slug = value or spec
        if session.scalar(select(Group.id).where(Group.slug == slug)) is None:
            raise InvalidInput("to", f"no group {slug!r}")
        return f"group:{slug}"
    login = value if kind == "login" else spec
    if kind not in ("", "login") or not _LOGIN.match(login):
        raise InvalidInput("to", f"not a recipient: {spec!r} (role, LOGIN, group:SLUG or address)")
    if session.scalar(select(Employee.id).where(Employee.login == login)) is None:
        raise InvalidInput("to", f"no employee {login!r}")
    return f"login:{login}"


def add_rule(uow: UnitOfWork, spec: RuleSpec, *, active: bool = True) -> NotificationRule:
    """Save a rule after validating every part of it (admins only)."""
    access.require_admin(uow.actor)
    rule = NotificationRule(created_at=uow.now())
    _apply(uow.session, rule, spec)
    rule.is_active = active
    uow.session.add(rule)
    uow.session.flush()
    audit.record(uow, "rule.create", "rule", rule.id, name=rule.name, active=active)
    return rule


def update_rule(uow: UnitOfWork, rule_id: int, spec: RuleSpec, *, active: bool = True) -> None:
    """Replace a rule's definition."""
    rule = get_rule(uow, rule_id)
    _apply(uow.session, rule, spec)
    rule.is_active = active
    audit.record(uow, "rule.update", "rule", rule_id, name=rule.name, active=active)


def delete_rule(uow: UnitOfWork, rule_id: int) -> None:
    """Remove a rule; what it already queued is still sent."""
    rule = get_rule(uow, rule_id)
    uow.session.delete(rule)
    audit.record(uow, "rule.delete", "rule", rule_id, name=rule.name)


def get_rule(uow: UnitOfWork, rule_id: int) -> NotificationRule:
    """One rule (admins only)."""
    access.require_admin(uow.actor)
    rule = uow.session.get(NotificationRule, rule_id)
    if rule is None:
        raise NotFound(f"rule {rule_id} not found")
    return rule


def list_rules(uow: UnitOfWork) -> list[NotificationRule]:
    """Every rule, in creation order (admins only)."""
    access.require_admin(uow.actor)
    return list(uow.session.scalars(select(NotificationRule).order_by(NotificationRule.id)))


def _apply(session: Session, rule: NotificationRule, spec: RuleSpec) -> None:
    if not spec.name.strip():
        raise InvalidInput("name", "must not be empty")
    if not spec.recipients:
        raise InvalidInput("to", "at least one recipient")
    recipients = [validate_recipient(session, r) for r in spec.recipients]
    if spec.event is NotificationEvent.DUE_SOON and not spec.lead_minutes:
        raise InvalidInput("lead", "due-soon needs a lead time")
    if spec.lead_minutes is not None and not 0 < spec.lead_minutes <= 60 * 24 * 60:
        raise InvalidInput("lead", "between 1 minute and 60 days")
    if spec.at_local_time is not None and not _TIME.match(spec.at_local_time):
        raise InvalidInput("at", f"expected HH:MM, got {spec.at_local_time!r}")
    if (spec.from_status or spec.to_status) and spec.event is not NotificationEvent.STATUS_CHANGED:
        raise InvalidInput("status", "--from/--to apply to status-changed rules only")
    rule.name = spec.name.strip()
    rule.event = spec.event
    rule.recipients = ",".join(dict.fromkeys(recipients))
    rule.channel = spec.channel
    rule.register_id = register_by_code(session, spec.register).id if spec.register else None
    rule.customer_id = (
        customer_by_id(session, spec.customer_id).id if spec.customer_id is not None else None
    )
    rule.priority = spec.priority
    rule.from_status = spec.from_status.value if spec.from_status else None
    rule.to_status = spec.to_status.value if spec.to_status else None
    rule.lead_minutes = spec.lead_minutes
    rule.at_local_time = spec.at_local_time
    rule.notify_actor = spec.notify_actor
    rule.field_key, rule.field_value = _field_scope(session, spec, rule.register_id)


def _field_scope(
    session: Session, spec: RuleSpec, register_id: int | None
) -> tuple[str | None, str | None]:
    """A custom-field condition names a field that exists (in the rule's register, if any)."""
    if spec.field is None:
        return None, None
    key, value = spec.field[0].strip(), spec.field[1].strip()
    query = select(CustomFieldDefinition.id).where(CustomFieldDefinition.key == key)
    if register_id is not None:
        query = query.where(CustomFieldDefinition.register_id == register_id)
    if not key or session.scalar(query.limit(1)) is None:
        raise InvalidInput(
            "field", f"no custom field {key!r}" + (" in that register" if register_id else "")
        )
    return key, value


def install_defaults(uow: UnitOfWork, lines: Sequence[RuleLine]) -> int:
    """Create the configured default rules on a database that never had them; returns count.

    Runs once per database (a flag on the cursor row), so rules an admin deleted stay deleted.
    A line whose recipient or register does not exist is skipped, not fatal.
    """
    cursor = _cursor(uow.session)
    if cursor.defaults_installed:
        return 0
    cursor.defaults_installed = True
    created = 0
    for line in lines:
        spec = RuleSpec(
            name=line.text,
            event=line.event,
            recipients=line.recipients,
            channel=line.channel,
            register=line.register,
            lead_minutes=line.lead_minutes,
            at_local_time=line.at_local_time,
        )
        try:
            with uow.session.begin_nested():
                add_rule(uow, spec)
        except (InvalidInput, NotFound):
            continue
        created += 1
    return created


# --- evaluation from the journal ----------------------------------------------------------


def journal_notices(
    uow: UnitOfWork, zone: ZoneInfo, *, quiet_seconds: int = 0, limit: int = 200
) -> tuple[list[Notice], int]:
    """Notices for the journal entries after the cursor (locked), and the seq to advance to.

    With ``quiet_seconds``, evaluation stops before the first change to a task that is still
    being edited (changed within that window), so a burst of edits becomes one mail; a task
    edited without pause is evaluated anyway after ten windows.
    """
    session, now = uow.session, uow.now()
    cursor = _cursor(session)
    entries = list(
        session.scalars(
            select(ChangeJournal)
            .where(ChangeJournal.seq > cursor.last_seq)
            .order_by(ChangeJournal.seq)
            .limit(limit)
        )
    )
    entries = _settled(entries, now, quiet_seconds)
    if not entries:
        return [], cursor.last_seq
    rules = [r for r in _active_rules(session) if not NotificationEvent(r.event).is_timed]
    notices: list[Notice] = []
    if rules:
        evaluation = _Round(session, rules, now.astimezone(zone).date())
        history = _history_by_seq(session, [e.seq for e in entries])
        for entry in entries:
            for found in _events(session, entry, history.get(entry.seq, [])):
                notices += evaluation.notices(entry, found)
    return notices, entries[-1].seq


def _field_matches(rule: NotificationRule, task: Task) -> bool:
    """The task's value of the rule's custom field, as text, equals the rule's (any case)."""
    session = object_session(task)
    if session is None:
        return False
    stored = session.scalars(
        select(CustomFieldValue)
        .join(CustomFieldDefinition, CustomFieldDefinition.id == CustomFieldValue.field_id)
        .where(
            CustomFieldValue.task_id == task.id,
            CustomFieldDefinition.key == rule.field_key,
            CustomFieldDefinition.register_id == task.register_id,
        )
    ).first()
    return stored is not None and _as_text(stored).casefold() == (rule.field_value or "").casefold()


def _as_text(value: CustomFieldValue) -> str:
    if value.value_text is not None:
        return value.value_text
    if value.value_number is not None:
        return format(value.value_number.normalize(), "f")
    if value.value_date is not None:
        return value.value_date.isoformat()
    return "" if value.value_bool is None else str(value.value_bool).lower()


def _settled(entries: list[ChangeJournal], now: dt.datetime, quiet: int) -> list[ChangeJournal]:
    """The leading entries whose task has been quiet for ``quiet`` seconds (or waited 10x)."""
    if not quiet or not entries:
        return entries
    window, longest = dt.timedelta(seconds=quiet), dt.timedelta(seconds=quiet * 10)
    hot = {e.task_id for e in entries if e.changed_at > now - window}
    for index, entry in enumerate(entries):
        if entry.task_id in hot and entry.changed_at > now - longest:
            return entries[:index]
    return entries


def _cursor(session: Session) -> NotificationCursor:
    """The cursor row, locked on PostgreSQL so one instance evaluates at a time."""
    query = select(NotificationCursor).where(NotificationCursor.id == 1)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    cursor = session.scalars(query).first()
    if cursor is None:  # a database created before the cursor row existed
        cursor = NotificationCursor(id=1, last_seq=0, defaults_installed=False)
        session.add(cursor)
        session.flush()
    return cursor


def advance(uow: UnitOfWork, seq: int) -> None:
    """Move the cursor (in the transaction that wrote the outbox rows)."""
    cursor = uow.session.get(NotificationCursor, 1)
    if cursor is not None and seq > cursor.last_seq:
        cursor.last_seq = seq


def _active_rules(session: Session) -> list[NotificationRule]:
    return list(session.scalars(select(NotificationRule).where(NotificationRule.is_active)))


def _history_by_seq(session: Session, seqs: list[int]) -> dict[int, list[TaskHistory]]:
    found: dict[int, list[TaskHistory]] = {}
    for row in session.scalars(select(TaskHistory).where(TaskHistory.seq.in_(seqs))):
        found.setdefault(row.seq, []).append(row)
    return found


_Events = list[tuple[NotificationEvent, tuple[tuple[str, str | None, str | None], ...], int | None]]


_FIELD_EVENTS = (
    ("responsible_id", NotificationEvent.ASSIGNED),
    ("status", NotificationEvent.STATUS_CHANGED),
    ("due", NotificationEvent.DUE_CHANGED),
    ("planned_start", NotificationEvent.DUE_CHANGED),
)
_ITEM_EVENTS = {
    ItemKind.FILE: NotificationEvent.FILE_ADDED,
    ItemKind.DELEGATION: NotificationEvent.DELEGATED,
}


def _events(session: Session, entry: ChangeJournal, history: list[TaskHistory]) -> _Events:
    """What one journal entry means, as rule events."""
    if entry.entity == "task" and entry.op == "insert":
        return [(NotificationEvent.TASK_CREATED, (), None), (NotificationEvent.ASSIGNED, (), None)]
    if entry.entity == "task" and entry.op == "update":
        changes = tuple((h.field, h.old_value, h.new_value) for h in history)
        fields = {h.field for h in history}
        return [(event, changes, None) for name, event in _FIELD_EVENTS if name in fields]
    if entry.entity == "task_item" and entry.op == "insert":
        return _item_events(session.get(TaskItem, entry.entity_id))
    return []


def _item_events(item: TaskItem | None) -> _Events:
    if item is None:
        return []
    if item.kind == ItemKind.NOTE:
        mailed = item.inbound_message_id is not None
        return [(NotificationEvent.MAIL_NOTE, (), item.id)] if mailed else []
    event = _ITEM_EVENTS.get(ItemKind(item.kind))
    return [(event, (), item.id)] if event else []


@dataclass
class _Round:
    """One evaluation round: its rules, its day, and the access checks it already made."""

    session: Session
    rules: list[NotificationRule]
    today: dt.date
    visible: dict[tuple[int, int], bool] = field(default_factory=dict)

    def notices(
        self,
        entry: ChangeJournal,
        found: tuple[NotificationEvent, tuple[tuple[str, str | None, str | None], ...], int | None],
    ) -> list[Notice]:
        """What the rules say about one event of one journal entry."""
        event, changes, item_id = found
        task = self.session.get(Task, entry.task_id)
        if task is None:
            return []
        notices = []
        for rule in self.rules:
            if rule.event != event or not _in_scope(rule, task, changes):
                continue
            skip = None if rule.notify_actor else entry.actor_id
            recipients = resolve(
                self.session, rule, task, skip_employee=skip, today=self.today, visible=self.visible
            )
            if recipients:
                details = {"changes": changes, "item_id": item_id, "actor_id": entry.actor_id}
                notices.append(Notice.of(rule, task.id, recipients, **details))
        return notices


def _in_scope(
    rule: NotificationRule, task: Task, changes: tuple[tuple[str, str | None, str | None], ...]
) -> bool:
    if rule.register_id is not None and rule.register_id != task.register_id:
        return False
    if rule.customer_id is not None and rule.customer_id != task.customer_id:
        return False
    if rule.priority is not None and rule.priority != task.priority:
        return False
    status = {name: (old, new) for name, old, new in changes}.get("status")
    if rule.from_status and (status is None or status[0] != rule.from_status):
        return False
    if rule.field_key is not None and not _field_matches(rule, task):
        return False
    return not (rule.to_status and (status is None or status[1] != rule.to_status))


# --- recipients -----------------------------------------------------------------------------


def resolve(
    session: Session,
    rule: NotificationRule,
    task: Task,
    *,
    skip_employee: int | None,
    today: dt.date,
    visible: dict[tuple[int, int], bool] | None = None,
) -> list[Recipient]:
    """The rule's recipients for this task; employees who may not see the task are left out,
    and outsiders hear nothing of private tasks. ``visible`` memoises the access check over
    one evaluation round (the state is the same for all of it)."""
    visible = {} if visible is None else visible
    employees: list[int] = []
    outside: list[Recipient] = []
    for spec in rule.recipients.split(","):
        employees += _employee_ids(session, spec, task)
        outside += _outside(session, spec, task)
    employees = _with_substitutes(session, employees, today)
    found: dict[str, Recipient] = {}
    for employee in session.scalars(
        select(Employee).where(Employee.id.in_(employees), Employee.is_active)
    ):
        key = (employee.id, task.id)
        if key not in visible:
            visible[key] = access.can_see(session, actor_for(employee), task.id)
        if employee.id == skip_employee or not visible[key]:
            continue
        found[f"e{employee.id}"] = Recipient(
            "employee",
            employee.id,
            employee.full_name,
            employee.email,
            employee.mobile,
            str(employee.locale),
        )
    if task.visibility != Visibility.PRIVATE:
        for recipient in outside:
            found.setdefault(f"{recipient.kind}{recipient.email}", recipient)
    return list(found.values())


def _with_substitutes(session: Session, employee_ids: list[int], today: dt.date) -> list[int]:
    """Absent employees are replaced by their substitute (and kept when they asked to be)."""
    away = stand_ins(session, employee_ids, today)
    result = []
    for employee_id in employee_ids:
        substitute, keep = away.get(employee_id, (None, True))
        if keep:
            result.append(employee_id)
        if substitute is not None:
            result.append(substitute)
    return list(dict.fromkeys(result))


def _employee_ids(session: Session, spec: str, task: Task) -> list[int]:
    role = _ROLE_QUERIES.get(spec)
    if role is not None:
        return [i for i in session.scalars(role(task)) if i is not None]
    if spec.startswith("login:"):
        return list(session.scalars(select(Employee.id).where(Employee.login == spec[6:])))
    if spec.startswith("group:"):
        return list(
            session.scalars(
                select(group_members.c.employee_id)
                .join(Group, Group.id == group_members.c.group_id)
                .where(Group.slug == spec[6:])
            )
        )
    return []


_ROLE_QUERIES: dict[str, Callable[[Task], Select[int | None]]] = {
    "assignee": lambda task: select(Task.responsible_id).where(Task.id == task.id),
    "creator": lambda task: select(Task.creator_id).where(Task.id == task.id),
    "manager": lambda task: select(Register.manager_id).where(Register.id == task.register_id),
    # watchers: the people the whole task is delegated to
    "watchers": lambda task: select(TaskItem.delegate_id).where(
        TaskItem.task_id == task.id,
        TaskItem.kind == ItemKind.DELEGATION,
        TaskItem.revoked_at.is_(None),
        TaskItem.delegation_mode == DelegationMode.WITH_HISTORY,
    ),
}


def _outside(session: Session, spec: str, task: Task) -> list[Recipient]:
    if spec.startswith("email:"):
        return [Recipient("address", None, spec[6:], spec[6:], None, "pl")]
    if spec == "contact" and task.contact_id is not None:
        contact = session.get(ContactPerson, task.contact_id)
        if contact is not None and (contact.email or contact.phone):
            name = f"{contact.first_name} {contact.last_name}"
            return [Recipient("contact", contact.id, name, contact.email, contact.phone, "pl")]
    return []


# --- time-based events -------------------------------------------------------------------


def timed_notices(uow: UnitOfWork, zone: ZoneInfo) -> list[Notice]:
    """Due-soon and overdue notices that have not fired yet; claims each firing."""
    session, now = uow.session, uow.now()
    today = now.astimezone(zone).date()
    notices: list[Notice] = []
    for rule in _active_rules(session):
        event = NotificationEvent(rule.event)
        if not event.is_timed:
            continue
        for task, occurrence in _timed_candidates(session, rule, event, now, zone):
            if not _claim(uow, rule.id, task.id, occurrence):
                continue
            recipients = resolve(session, rule, task, skip_employee=None, today=today)
            if recipients:
                notices.append(Notice.of(rule, task.id, recipients))
    return notices


def _timed_candidates(
    session: Session,
    rule: NotificationRule,
    event: NotificationEvent,
    now: dt.datetime,
    zone: ZoneInfo,
) -> list[tuple[Task, str]]:
    query = select(Task).where(Task.status.in_(OPEN_STATUSES), Task.due.is_not(None))
    if rule.register_id is not None:
        query = query.where(Task.register_id == rule.register_id)
    if rule.customer_id is not None:
        query = query.where(Task.customer_id == rule.customer_id)
    if rule.priority is not None:
        query = query.where(Task.priority == rule.priority)
    if event is NotificationEvent.DUE_SOON:
        lead = dt.timedelta(minutes=rule.lead_minutes or 60)
        query = query.where(Task.due > now, Task.due <= now + lead)
        return [(t, f"due:{t.due.isoformat()}") for t in session.scalars(query) if t.due]
    local = now.astimezone(zone)
    if rule.at_local_time and local.strftime("%H:%M") < rule.at_local_time:
        return []
    query = query.where(Task.due < now)
    return [(t, f"day:{local.date().isoformat()}") for t in session.scalars(query)]


def _claim(uow: UnitOfWork, rule_id: int, task_id: int, occurrence: str) -> bool:
    values = {"rule_id": rule_id, "task_id": task_id, "occurrence": occurrence}
    values["fired_at"] = uow.now()
    claimed = insert_unless_present(uow.session, NotificationFiring, values, NotificationFiring.id)
    return claimed is not None


def system_actor() -> Actor:
    """The actor notifications are evaluated as."""
    return Actor.system("notifications")
