"""``#status: done`` lines in the top of a reply: task changes by e-mail, opt-in per register.

Only the unquoted new text is searched (the caller passes the extracted reply), only its first
lines count, and only an authenticated employee's commands are applied; each one goes through
the task services, so the history shows source ``email`` and the usual permission checks hold.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from hermes_groupware.db.session import UnitOfWork
from hermes_groupware.errors import HermesError
from hermes_groupware.models import Task
from hermes_groupware.models.enums import Priority, TaskStatus
from hermes_groupware.services import lookups, tasks

_COMMAND = re.compile(r"^\s*#\s*([a-ząćęłńóśźż]+)\s*:\s*(\S.{0,200}?)\s*$", re.IGNORECASE)
_TOP_LINES = 12  # commands must come before the message proper

_KEYS = {
    "status": "status",
    "termin": "due",
    "due": "due",
    "przypisz": "assign",
    "assign": "assign",
    "priorytet": "priority",
    "priority": "priority",
}
_STATUSES = {
    "nowe": TaskStatus.NEW,
    "nowy": TaskStatus.NEW,
    "new": TaskStatus.NEW,
    "w toku": TaskStatus.IN_PROGRESS,
    "w trakcie": TaskStatus.IN_PROGRESS,
    "in progress": TaskStatus.IN_PROGRESS,
    "in_progress": TaskStatus.IN_PROGRESS,
    "oczekuje": TaskStatus.WAITING,
    "wstrzymane": TaskStatus.WAITING,
    "waiting": TaskStatus.WAITING,
    "zakończone": TaskStatus.DONE,
    "zakonczone": TaskStatus.DONE,
    "zrobione": TaskStatus.DONE,
    "gotowe": TaskStatus.DONE,
    "done": TaskStatus.DONE,
    "completed": TaskStatus.DONE,
    "anulowane": TaskStatus.CANCELLED,
    "cancelled": TaskStatus.CANCELLED,
    "canceled": TaskStatus.CANCELLED,
}
_PRIORITIES = {
    "wysoki": Priority.HIGH,
    "high": Priority.HIGH,
    "normalny": Priority.NORMAL,
    "normal": Priority.NORMAL,
    "niski": Priority.LOW,
    "low": Priority.LOW,
}


@dataclass(frozen=True)
class Command:
    """One recognised command line, as written."""

    key: str
    value: str
    line: str


def split_commands(text: str) -> tuple[list[Command], str]:
    """Commands from the first lines of the reply, and the text without them."""
    lines = text.splitlines()
    commands: list[Command] = []
    kept: list[str] = []
    seen = 0
    for line in lines:
        if line.strip():
            seen += 1
        match = _COMMAND.match(line) if seen <= _TOP_LINES else None
        key = _KEYS.get(match.group(1).lower()) if match else None
        if match and key:
            commands.append(Command(key, match.group(2), line.strip()))
        else:
            kept.append(line)
    return commands, "\n".join(kept).strip()


def apply_commands(
    uow: UnitOfWork, task_id: int, commands: list[Command], zone: ZoneInfo
) -> list[str]:
    """Apply each command as the unit's actor; one result line per command (PL/EN neutral)."""
    results = []
    for command in commands:
        try:
            changes = _changes(uow, task_id, command, zone)
            tasks.update_task(uow, task_id, changes)
        except (HermesError, ValueError) as exc:
            results.append(f"✗ {command.line} — {exc}")
        else:
            results.append(f"✓ {command.line}")
    return results


def _changes(uow: UnitOfWork, task_id: int, command: Command, zone: ZoneInfo) -> tasks.TaskChanges:
    value = " ".join(command.value.lower().split())
    if command.key == "status":
        if value not in _STATUSES:
            raise ValueError(f"unknown status {command.value!r}")
        return tasks.TaskChanges(status=_STATUSES[value])
    if command.key == "priority":
        if value not in _PRIORITIES:
            raise ValueError(f"unknown priority {command.value!r}")
        return tasks.TaskChanges(priority=_PRIORITIES[value])
    if command.key == "assign":
        employee = lookups.employee_by_login(uow.session, value, field="#przypisz")
        return tasks.TaskChanges(responsible_id=employee.id)
    return _due_change(uow.session.get_one(Task, task_id), _parse_date(value), zone)


def _parse_date(value: str) -> dt.date:
    for pattern in ("%Y-%m-%d", "%d.%m.%Y", "%d-%m-%Y", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(value, pattern).date()  # noqa: DTZ007 (a date only)
        except ValueError:
            continue
    raise ValueError(f"expected a date like 2026-12-01 or 01.12.2026, got {value!r}")


def _due_change(task: Task, day: dt.date, zone: ZoneInfo) -> tasks.TaskChanges:
    """A date-only due keeps a date-only task all-day; a timed task gets local midnight."""
    if task.planned_start is None or task.all_day:
        return tasks.TaskChanges(
            due=dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC), all_day=True
        )
    return tasks.TaskChanges(due=dt.datetime.combine(day, dt.time(), zone).astimezone(dt.UTC))
