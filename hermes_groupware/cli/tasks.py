"""``task create|list|show|update|note|attach|delegate`` (reminders: ``cli/reminders.py``)."""

from __future__ import annotations

import argparse
import datetime as dt
import mimetypes
from pathlib import Path
from zoneinfo import ZoneInfo

from hermes_groupware.cli import reminders
from hermes_groupware.cli.context import CommandContext
from hermes_groupware.cli.output import print_json, print_table
from hermes_groupware.db.session import UnitOfWork
from hermes_groupware.errors import InvalidInput
from hermes_groupware.models.enums import DelegationMode, Priority, TaskStatus
from hermes_groupware.services import delegation, items, task_views, tasks
from hermes_groupware.services.access import readable_task_id
from hermes_groupware.services.lookups import employee_by_login, register_by_code
from hermes_groupware.services.task_views import TaskDetail, TaskFilter, local_text

_STATUSES = [s.value for s in TaskStatus]
_PRIORITIES = [p.value for p in Priority]


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the commands."""
    task = commands.add_parser("task", help="tasks").add_subparsers(
        dest="task_command", metavar="ACTION", required=True
    )
    create = task.add_parser("create", help="create a task (numbered in its register)")
    create.add_argument("--register", required=True, metavar="CODE")
    create.add_argument("--subject", required=True)
    create.add_argument("--parent", metavar="NUMBER", help="make it a sub-task of this task")
    _add_change_options(create)
    create.set_defaults(handler=_create)

    listing = task.add_parser("list", help="list the tasks you may see")
    listing.add_argument("--register", metavar="CODE")
    listing.add_argument("--assignee", metavar="LOGIN")
    listing.add_argument("--status", choices=_STATUSES)
    listing.add_argument("--overdue", action="store_true", help="due passed and still open")
    listing.add_argument("--customer", type=int, metavar="ID")
    listing.add_argument("--search", metavar="TEXT", help="part of the subject")
    listing.add_argument("--limit", type=int)
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=_list)

    show = task.add_parser("show", help="a task with notes, files, sub-tasks and history")
    show.add_argument("number")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=_show)

    update = task.add_parser("update", help="change a task")
    update.add_argument("number")
    update.add_argument("--subject")
    update.add_argument("--register", metavar="CODE", help="move to another register")
    update.add_argument("--expected-version", type=int, help="fail if the task changed since")
    _add_change_options(update)
    update.set_defaults(handler=_update)

    note = task.add_parser("note", help="add a note")
    note.add_argument("number")
    note.add_argument("text")
    note.set_defaults(handler=_note)

    attach = task.add_parser("attach", help="attach a file")
    attach.add_argument("number")
    attach.add_argument("path", type=Path)
    attach.set_defaults(handler=_attach)

    delegate = task.add_parser("delegate", help="delegate a task to a co-worker")
    delegate.add_argument("number")
    delegate.add_argument("login")
    delegate.add_argument(
        "--hide-parent",
        action="store_true",
        help="a sub-task only: the delegate does not see the parent task",
    )
    delegate.set_defaults(handler=_delegate)

    reminders.register(task)  # task remind | reminders | unremind


def _add_change_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--description")
    parser.add_argument("--status", choices=_STATUSES)
    parser.add_argument("--priority", choices=_PRIORITIES)
    parser.add_argument("--assignee", metavar="LOGIN", help="responsible employee")
    parser.add_argument(
        "--start", metavar="T", help="planned start: YYYY-MM-DD or YYYY-MM-DD HH:MM"
    )
    parser.add_argument("--due", metavar="T", help="due: YYYY-MM-DD (all day) or YYYY-MM-DD HH:MM")
    parser.add_argument("--customer", type=int, metavar="ID")
    parser.add_argument("--json", action="store_true")


def parse_when(text: str, option: str, zone: ZoneInfo) -> tuple[dt.datetime, bool]:
    """A date (all-day, stored at 00:00 UTC) or a local date-time; returns (value, is_date)."""
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        pass
    else:
        return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC), True
    try:
        when = dt.datetime.fromisoformat(text.strip().replace(" ", "T", 1))
    except ValueError as exc:
        raise InvalidInput(
            option, f"expected YYYY-MM-DD or YYYY-MM-DD HH:MM, got {text!r}"
        ) from exc
    if when.tzinfo is None:
        when = when.replace(tzinfo=zone)
    return when.astimezone(dt.UTC), False


def _dates(
    args: argparse.Namespace, zone: ZoneInfo, current: TaskDetail | None
) -> dict[str, object]:
    """``--start``/``--due`` as task changes; all-day only when every date involved is a date."""
    given = {
        name: parse_when(value, f"--{option}", zone)
        for name, option, value in (
            ("planned_start", "start", args.start),
            ("due", "due", args.due),
        )
        if value
    }
    if not given:
        return {}
    others_all_day = (
        current is None
        or current.task.all_day
        or not any(
            getattr(current.task, name) for name in ("planned_start", "due") if name not in given
        )
    )
    all_day = all(is_date for _, is_date in given.values()) and others_all_day
    changes: dict[str, object] = {"all_day": all_day}
    for name, (value, is_date) in given.items():
        local_midnight = dt.datetime.combine(value.date(), dt.time(), zone).astimezone(dt.UTC)
        changes[name] = local_midnight if is_date and not all_day else value
    return changes


def _changes(
    uow: UnitOfWork, args: argparse.Namespace, zone: ZoneInfo, current: TaskDetail | None = None
) -> tasks.TaskChanges:
    values: dict[str, object] = _dates(args, zone, current)
    if args.description is not None:
        values["description"] = args.description
    if args.status:
        values["status"] = TaskStatus(args.status)
    if args.priority:
        values["priority"] = Priority(args.priority)
    if args.assignee:
        values["responsible_id"] = employee_by_login(
            uow.session, args.assignee, field="--assignee"
        ).id
    if args.customer is not None:
        values["customer_id"] = args.customer
    if getattr(args, "subject", None) and current is not None:
        values["subject"] = args.subject
    if getattr(args, "register", None) and current is not None:
        values["register_id"] = register_by_code(uow.session, args.register).id
    return tasks.TaskChanges(**values)  # type: ignore[arg-type]


def _zone(ctx: CommandContext) -> ZoneInfo:
    return ZoneInfo(ctx.settings.server.default_time_zone)


def _create(ctx: CommandContext, args: argparse.Namespace) -> int:
    with ctx.unit_of_work() as uow:
        parent_id = readable_task_id(uow.session, uow.actor, args.parent) if args.parent else None
        task = tasks.create_task(
            uow,
            register_id=register_by_code(uow.session, args.register).id,
            subject=args.subject,
            parent_id=parent_id,
            changes=_changes(uow, args, _zone(ctx)),
        )
        detail = task_views.task_detail(uow, task.id)
    _print_detail(detail, args.json, _zone(ctx), brief=True)
    return 0


def _list(ctx: CommandContext, args: argparse.Namespace) -> int:
    flt = TaskFilter(
        register=args.register,
        assignee=args.assignee,
        status=TaskStatus(args.status) if args.status else None,
        overdue=args.overdue,
        customer_id=args.customer,
        search=args.search,
        limit=args.limit,
    )
    with ctx.unit_of_work(read_only=True) as uow:
        rows = task_views.list_tasks(uow, flt)
    if args.json:
        print_json(rows)
        return 0
    print_table(
        ["number", "status", "due", "responsible", "subject", "overdue"],
        [
            [
                r.number,
                r.status,
                _when(r.due, r.all_day, _zone(ctx)),
                r.responsible,
                r.subject[:60],
                "OVERDUE" if r.overdue else "",
            ]
            for r in rows
        ],
    )
    return 0


def _show(ctx: CommandContext, args: argparse.Namespace) -> int:
    with ctx.unit_of_work(read_only=True) as uow:
        detail = task_views.task_detail(uow, readable_task_id(uow.session, uow.actor, args.number))
    _print_detail(detail, args.json, _zone(ctx))
    return 0


def _update(ctx: CommandContext, args: argparse.Namespace) -> int:
    with ctx.unit_of_work() as uow:
        task_id = readable_task_id(uow.session, uow.actor, args.number)
        current = task_views.task_detail(uow, task_id)
        tasks.update_task(
            uow,
            task_id,
            _changes(uow, args, _zone(ctx), current),
            expected_version=args.expected_version,
        )
        detail = task_views.task_detail(uow, task_id)
    _print_detail(detail, args.json, _zone(ctx), brief=True)
    return 0


def _note(ctx: CommandContext, args: argparse.Namespace) -> int:
    with ctx.unit_of_work() as uow:
        items.add_note(uow, readable_task_id(uow.session, uow.actor, args.number), args.text)
    print(f"note added to {args.number}")
    return 0


def _attach(ctx: CommandContext, args: argparse.Namespace) -> int:
    if not args.path.is_file():
        raise InvalidInput("path", f"no such file: {args.path}")
    content_type = mimetypes.guess_type(args.path.name)[0] or "application/octet-stream"
    with ctx.unit_of_work() as uow, args.path.open("rb") as fh:
        items.add_file(
            uow,
            readable_task_id(uow.session, uow.actor, args.number),
            filename=args.path.name,
            content_type=content_type,
            chunks=iter(lambda: fh.read(1 << 20), b""),
        )
    print(f"{args.path.name} attached to {args.number}")
    return 0


def _delegate(ctx: CommandContext, args: argparse.Namespace) -> int:
    mode = DelegationMode.HIDE_PARENT if args.hide_parent else DelegationMode.WITH_HISTORY
    with ctx.unit_of_work() as uow:
        delegation.delegate(
            uow, readable_task_id(uow.session, uow.actor, args.number), args.login, mode
        )
    print(f"{args.number} delegated to {args.login} ({mode.value})")
    return 0


def _when(value: dt.datetime | None, all_day: bool, zone: ZoneInfo) -> str:
    return local_text(value, all_day, zone) or "-"


def _print_detail(
    detail: TaskDetail, as_json: bool, zone: ZoneInfo, *, brief: bool = False
) -> None:
    if as_json:
        print_json(detail)
        return
    t = detail.task
    print(f"{t.number}  {t.subject}")
    print(
        f"  status {t.status}, priority {t.priority}, responsible {t.responsible}"
        + (", OVERDUE" if t.overdue else "")
    )
    start, due = (_when(v, t.all_day, zone) for v in (t.planned_start, t.due))
    print(
        f"  start {start}, due {due}, customer {t.customer or '-'}"
        + (f", parent {t.parent}" if t.parent else "")
    )
    if brief:
        return
    if detail.description:
        print(f"\n{detail.description}")
    for note in detail.notes:
        when = note.created_at.astimezone(zone)
        print(f"\n  note by {note.author or '-'} ({note.source}, {when:%Y-%m-%d %H:%M}):")
        print("    " + (note.body or "").replace("\n", "\n    "))
    for file in detail.files:
        print(f"  file {file.filename} ({file.size} bytes)")
    for sub in detail.subtasks:
        print(f"  sub-task {sub.number} [{sub.status}] {sub.subject}")
    print("\nhistory:")
    print_table(
        ["when", "field", "old", "new", "source", "by"],
        [
            [h.changed_at.astimezone(zone), h.field, h.old, h.new, h.source, h.actor]
            for h in detail.history
        ],
    )
