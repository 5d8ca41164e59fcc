"""Individual reminders on a task: who, when, how (pop-up, e-mail, SMS) and a note.

Anyone who may see a task may set a reminder for themselves; reminding someone else needs
edit rights on the task, and the reminded employee must be able to see it (a delegate who
only sees a sub-task is never reminded of its parent). A reminder's time is absolute, or an
offset from the task's due date or planned start, so it follows the task when the date moves.

Pop-up reminders become alarms in the employee's own calendars (the sync layer renders them);
what a calendar client says back (dismissed, snoozed) is stored with :func:`acknowledge` and
:func:`snooze`. E-mail and SMS reminders are claimed by :func:`due_reminders` once per
occurrence (its trigger time), in the transaction that queues the message, so each is sent
exactly once however many instances run.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from hermes_groupware.db.session import UnitOfWork
from hermes_groupware.db.upsert import insert_unless_present
from hermes_groupware.errors import InvalidInput, NotFound, PermissionDenied
from hermes_groupware.models import Employee, Task, TaskReminder, TaskReminderFiring
from hermes_groupware.models.enums import OPEN_STATUSES
from hermes_groupware.models.reminder import ReminderAnchor, ReminderChannel
from hermes_groupware.services import access
from hermes_groupware.services.directory import actor_for
from hermes_groupware.services.lookups import logins_by_id

MAX_OFFSET_MINUTES = 60 * 24 * 60  # 60 days either side of the date
MAX_NOTE_CHARS = 1000
#: An e-mail/SMS reminder more than this late (a worker that was down, a date moved far into
#: the past) is not sent any more.
MAX_LATENESS = dt.timedelta(hours=24)
DEFAULT_ZONE = "Europe/Warsaw"


@dataclass(frozen=True)
class ReminderSpec:
    """When and how to remind whom: ``at``, or ``offset_minutes`` from ``relative_to``
    (negative: before the date). ``employee_id`` None means the actor."""

    at: dt.datetime | None = None
    relative_to: ReminderAnchor | None = None
    offset_minutes: int | None = None
    channel: ReminderChannel = ReminderChannel.POPUP
    note: str | None = None
    employee_id: int | None = None


@dataclass(frozen=True)
class ReminderView:
    """A reminder as people read it; ``trigger_at`` is None while the task lacks the date."""

    id: int
    task_id: int
    number: str
    employee: str
    channel: ReminderChannel
    remind_at: dt.datetime | None
    relative_to: ReminderAnchor | None
    offset_minutes: int | None
    trigger_at: dt.datetime | None
    note: str | None
    created_by: str | None
    created_at: dt.datetime
    acknowledged_at: dt.datetime | None
    snoozed_until: dt.datetime | None
    last_fired_at: dt.datetime | None


@dataclass(frozen=True)
class DueReminder:
    """An e-mail/SMS reminder whose occurrence this caller has claimed: send it now."""

    reminder_id: int
    task_id: int
    employee_id: int
    channel: ReminderChannel
    note: str | None
    occurrence: dt.datetime


# --- setting and removing reminders -------------------------------------------------------


def add_reminder(uow: UnitOfWork, task_id: int, spec: ReminderSpec) -> TaskReminder:
    """Set a reminder after the permission checks and validation.

    Raises:
        NotFound: the actor may not see the task. PermissionDenied: reminding someone else
        without edit rights. InvalidInput: a bad time, channel or recipient (named).
    """
    session, actor = uow.session, uow.actor
    task = access.readable_task(session, actor, task_id)
    employee = _recipient(session, spec.employee_id or actor.employee_id)
    if employee.id != actor.employee_id and not access.can_edit(session, actor, task_id):
        raise PermissionDenied(f"reminding someone else needs edit rights on task {task.number}")
    if not access.can_see(session, actor_for(employee), task_id):
        raise InvalidInput("who", f"{employee.login} may not see task {task.number}")
    channel = ReminderChannel(spec.channel)
    _check_channel(session, channel, employee, task)
    reminder = TaskReminder(
        task_id=task.id,
        employee_id=employee.id,
        channel=channel,
        note=_note(spec.note),
        created_by=actor.employee_id,
        created_at=uow.now(),
    )
    _set_time(reminder, task, spec, now=uow.now(), require_future=True)
    session.add(reminder)
    session.flush()
    return reminder


def reschedule(
    uow: UnitOfWork,
    reminder_id: int,
    *,
    at: dt.datetime | None = None,
    relative_to: ReminderAnchor | None = None,
    offset_minutes: int | None = None,
) -> TaskReminder:
    """Move a reminder (a calendar client moved its alarm); the past is allowed here."""
    reminder, task = _mutable(uow, reminder_id, creator_may=True)
    spec = ReminderSpec(at=at, relative_to=relative_to, offset_minutes=offset_minutes)
    _set_time(reminder, task, spec, now=uow.now(), require_future=False)
    uow.session.flush()
    return reminder


def delete_reminder(uow: UnitOfWork, reminder_id: int) -> None:
    """Remove a reminder (the reminded employee, whoever set it, or an admin)."""
    reminder, _ = _mutable(uow, reminder_id, creator_may=True)
    uow.session.delete(reminder)
    uow.session.flush()


def acknowledge(uow: UnitOfWork, reminder_id: int, at: dt.datetime) -> TaskReminder:
    """The employee dismissed the alarm at ``at``; acknowledgements only move forward."""
    reminder, _ = _mutable(uow, reminder_id, creator_may=False)
    at = _aware(at, "acknowledged")
    if reminder.acknowledged_at is None or at > reminder.acknowledged_at:
        reminder.acknowledged_at = at
        uow.session.flush()
    return reminder


def snooze(uow: UnitOfWork, reminder_id: int, until: dt.datetime | None) -> TaskReminder:
    """The employee snoozed the alarm until ``until`` (None: the snooze is over)."""
    reminder, _ = _mutable(uow, reminder_id, creator_may=False)
    until = _aware(until, "snoozed") if until is not None else None
    if reminder.snoozed_until != until:
        reminder.snoozed_until = until
        uow.session.flush()
    return reminder


def list_reminders(uow: UnitOfWork, task_id: int) -> list[ReminderView]:
    """The task's reminders the actor may know about: their own and those they set (admins
    see all); other people's reminders are personal."""
    session, actor = uow.session, uow.actor
    task = access.readable_task(session, actor, task_id)
    query = select(TaskReminder).where(TaskReminder.task_id == task_id)
    if not actor.is_admin:
        me = actor.employee_id
        query = query.where(or_(TaskReminder.employee_id == me, TaskReminder.created_by == me))
    rows = list(session.scalars(query.order_by(TaskReminder.id)))
    return _views(session, task, rows)


def own_popups(uow: UnitOfWork, task_id: int) -> list[TaskReminder]:
    """The actor's own pop-up reminders on a task they may see (what their calendars show)."""
    access.readable_task(uow.session, uow.actor, task_id)
    return list(
        uow.session.scalars(
            select(TaskReminder)
            .where(
                TaskReminder.task_id == task_id,
                TaskReminder.employee_id == uow.actor.employee_id,
                TaskReminder.channel == ReminderChannel.POPUP,
            )
            .order_by(TaskReminder.id)
        )
    )


def _recipient(session: Session, employee_id: int | None) -> Employee:
    if employee_id is None:
        raise InvalidInput("who", "say whom to remind")
    employee = session.get(Employee, employee_id)
    if employee is None or not employee.is_active:
        raise InvalidInput("who", "no such active employee")
    return employee


def _check_channel(
    session: Session, channel: ReminderChannel, employee: Employee, task: Task
) -> None:
    if channel is ReminderChannel.EMAIL and not employee.email:
        raise InvalidInput("channel", f"{employee.login} has no e-mail address")
    if channel is ReminderChannel.SMS and not employee.mobile:
        raise InvalidInput("channel", f"{employee.login} has no mobile number")
    if channel is ReminderChannel.POPUP and not _in_own_lists(session, employee.id, task):
        raise InvalidInput(
            "channel",
            f"a pop-up shows in the employee's own calendars, and task {task.number} is not "
            f"in {employee.login}'s (neither responsible nor delegated); use email or sms",
        )


def _in_own_lists(session: Session, employee_id: int, task: Task) -> bool:
    """Responsible or delegated: the task is in the employee's "My tasks" (and "My plan")."""
    if task.responsible_id == employee_id:
        return True
    own = session.scalar(select(Task.id).where(Task.id == task.id, access.assigned_to(employee_id)))
    return own is not None


def _note(note: str | None) -> str | None:
    text = (note or "").strip()
    if len(text) > MAX_NOTE_CHARS:
        raise InvalidInput("note", f"at most {MAX_NOTE_CHARS} characters")
    return text or None


def _aware(value: dt.datetime, field: str) -> dt.datetime:
    """UTC to the second, as calendars carry times (so round trips compare equal)."""
    if value.tzinfo is None:
        raise InvalidInput(field, "a time with a time zone")
    return value.astimezone(dt.UTC).replace(microsecond=0)


def _set_time(
    reminder: TaskReminder,
    task: Task,
    spec: ReminderSpec,
    *,
    now: dt.datetime,
    require_future: bool,
) -> None:
    """Exactly one form: an absolute time, or an offset from a date the task has."""
    if spec.at is not None:
        if spec.relative_to is not None or spec.offset_minutes is not None:
            raise InvalidInput("when", "an absolute time, or an offset from a date; not both")
        at = _aware(spec.at, "at")
        if require_future and at <= now:
            raise InvalidInput("at", "must be in the future")
        reminder.remind_at, reminder.relative_to, reminder.offset_minutes = at, None, None
        return
    anchor = spec.relative_to
    if anchor is None:
        raise InvalidInput("when", "an absolute time, or minutes before the due date or start")
    if spec.offset_minutes is None or abs(spec.offset_minutes) > MAX_OFFSET_MINUTES:
        raise InvalidInput("offset", f"minutes, at most {MAX_OFFSET_MINUTES} either way")
    if _anchor_value(task, anchor) is None:
        what = "due date" if anchor is ReminderAnchor.DUE else "planned start"
        raise InvalidInput("when", f"task {task.number} has no {what}")
    reminder.remind_at, reminder.relative_to = None, anchor
    reminder.offset_minutes = spec.offset_minutes


def _mutable(uow: UnitOfWork, reminder_id: int, *, creator_may: bool) -> tuple[TaskReminder, Task]:
    """The reminder, if the actor may change it: the reminded employee (or, for moving and
    deleting, whoever set it) or an admin. Anyone else gets NotFound: reminders are personal."""
    session, actor = uow.session, uow.actor
    reminder = session.get(TaskReminder, reminder_id)
    if reminder is None or not access.can_see(session, actor, reminder.task_id):
        raise NotFound(f"reminder {reminder_id} not found")
    mine = reminder.employee_id == actor.employee_id
    set_by_me = creator_may and reminder.created_by == actor.employee_id
    if not (actor.is_admin or mine or (set_by_me and actor.employee_id is not None)):
        raise NotFound(f"reminder {reminder_id} not found")
    return reminder, session.get_one(Task, reminder.task_id)


def _views(session: Session, task: Task, rows: list[TaskReminder]) -> list[ReminderView]:
    logins = logins_by_id(session, [r.employee_id for r in rows] + [r.created_by for r in rows])
    zones = _zones(session, {r.employee_id for r in rows})
    fired = dict(
        session.execute(
            select(TaskReminderFiring.reminder_id, func.max(TaskReminderFiring.occurrence))
            .where(TaskReminderFiring.reminder_id.in_([r.id for r in rows]))
            .group_by(TaskReminderFiring.reminder_id)
        ).all()
    )
    return [
        ReminderView(
            id=r.id,
            task_id=task.id,
            number=task.number,
            employee=logins.get(r.employee_id, "?"),
            channel=ReminderChannel(r.channel),
            remind_at=r.remind_at,
            relative_to=ReminderAnchor(r.relative_to) if r.relative_to else None,
            offset_minutes=r.offset_minutes,
            trigger_at=trigger_time(r, task, zones.get(r.employee_id, zone_of(None))),
            note=r.note,
            created_by=logins.get(r.created_by) if r.created_by else None,
            created_at=r.created_at,
            acknowledged_at=r.acknowledged_at,
            snoozed_until=r.snoozed_until,
            last_fired_at=fired.get(r.id),
        )
        for r in rows
    ]


# --- when a reminder is due ---------------------------------------------------------------


def zone_of(name: str | None) -> ZoneInfo:
    """An employee's time zone; an unknown name (plain SQL may write anything) is Warsaw."""
    try:
        return ZoneInfo(name or DEFAULT_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_ZONE)


def _zones(session: Session, employee_ids: set[int]) -> dict[int, ZoneInfo]:
    rows = session.execute(
        select(Employee.id, Employee.time_zone).where(Employee.id.in_(employee_ids))
    )
    return {employee_id: zone_of(name) for employee_id, name in rows}


def _anchor_value(task: Task, anchor: ReminderAnchor) -> dt.datetime | None:
    return task.due if anchor is ReminderAnchor.DUE else task.planned_start


def trigger_time(reminder: TaskReminder, task: Task, zone: ZoneInfo) -> dt.datetime | None:
    """When the reminder goes off (UTC), or None while the task lacks its date.

    The date of an all-day task counts from midnight in the employee's zone, as calendar
    clients count an alarm relative to a date.
    """
    if reminder.remind_at is not None:
        return reminder.remind_at
    if reminder.relative_to is None or reminder.offset_minutes is None:
        return None
    anchor = _anchor_value(task, ReminderAnchor(reminder.relative_to))
    if anchor is None:
        return None
    if task.all_day:
        anchor = dt.datetime.combine(anchor.date(), dt.time(), zone).astimezone(dt.UTC)
    return anchor + dt.timedelta(minutes=reminder.offset_minutes)


def due_reminders(uow: UnitOfWork, now: dt.datetime | None = None) -> list[DueReminder]:
    """E-mail/SMS reminders due by ``now`` (at most :data:`MAX_LATENESS` late) on open tasks,
    each occurrence claimed once; call in the transaction that queues the messages.

    A relative reminder's occurrence is its trigger time, so a reminder that fired and whose
    task date then moved fires again at the new time. An employee who may no longer see the
    task (a revoked delegation) is not reminded.
    """
    session = uow.session
    now = now or uow.now()
    candidates = [
        (reminder, task, employee, occurrence)
        for reminder, task, employee in session.execute(_candidates(now))
        if (occurrence := trigger_time(reminder, task, zone_of(employee.time_zone))) is not None
        and now - MAX_LATENESS < occurrence <= now
    ]
    if not candidates:
        return []
    fired = set(
        session.execute(
            select(TaskReminderFiring.reminder_id, TaskReminderFiring.occurrence).where(
                TaskReminderFiring.reminder_id.in_([c[0].id for c in candidates])
            )
        ).all()
    )
    due: list[DueReminder] = []
    for reminder, task, employee, occurrence in candidates:
        if (reminder.id, occurrence) in fired:
            continue
        if not access.can_see(session, actor_for(employee), task.id):
            continue
        values = {"reminder_id": reminder.id, "occurrence": occurrence, "fired_at": now}
        if insert_unless_present(session, TaskReminderFiring, values, TaskReminderFiring.id):
            due.append(
                DueReminder(
                    reminder_id=reminder.id,
                    task_id=task.id,
                    employee_id=employee.id,
                    channel=ReminderChannel(reminder.channel),
                    note=reminder.note,
                    occurrence=occurrence,
                )
            )
    return due


def _candidates(now: dt.datetime) -> Select[TaskReminder, Task, Employee]:
    """Reminders that may be due: absolute ones in the lateness window, relative ones whose
    date is near enough for any allowed offset (a day more for all-day zones)."""
    late = now - MAX_LATENESS
    reach = dt.timedelta(minutes=MAX_OFFSET_MINUTES, days=1)
    near = (late - reach, now + reach)
    return (
        select(TaskReminder, Task, Employee)
        .join(Task, Task.id == TaskReminder.task_id)
        .join(Employee, Employee.id == TaskReminder.employee_id)
        .where(
            TaskReminder.channel.in_([ReminderChannel.EMAIL, ReminderChannel.SMS]),
            Task.status.in_(OPEN_STATUSES),
            Employee.is_active,
            or_(
                and_(TaskReminder.remind_at > late, TaskReminder.remind_at <= now),
                and_(TaskReminder.relative_to == ReminderAnchor.DUE, Task.due.between(*near)),
                and_(
                    TaskReminder.relative_to == ReminderAnchor.PLANNED_START,
                    Task.planned_start.between(*near),
                ),
            ),
        )
        .order_by(TaskReminder.id)
    )
