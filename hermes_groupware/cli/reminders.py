"""``task remind|reminders|unremind``: individual reminders on a task (under ``task``)."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

from hermes_groupware.cli.context import CommandContext
from hermes_groupware.cli.output import print_json, print_table
from hermes_groupware.errors import InvalidInput
from hermes_groupware.models.reminder import ReminderAnchor, ReminderChannel
from hermes_groupware.services import reminders
from hermes_groupware.services.access import readable_task_id
from hermes_groupware.services.lookups import employee_by_login
from hermes_groupware.services.reminders import ReminderSpec, ReminderView


def register(task: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the reminder actions to the ``task`` command."""
    remind = task.add_parser(
        "remind",
        help="set a reminder on a task",
        description="Remind yourself (or, with edit rights, a co-worker who may see the task) "
        "at a time or some minutes before the task's due date or planned start. A pop-up "
        "appears as an alarm in the employee's own calendars; email and sms are sent once.",
    )
    remind.add_argument("number")
    when = remind.add_mutually_exclusive_group(required=True)
    when.add_argument("--at", metavar="'YYYY-MM-DD HH:MM'", help="local time (server zone)")
    when.add_argument("--before-due", type=int, metavar="MINUTES")
    when.add_argument("--before-start", type=int, metavar="MINUTES")
    remind.add_argument("--who", metavar="LOGIN", help="whom to remind (default: you)")
    remind.add_argument(
        "--channel", choices=[c.value for c in ReminderChannel], default=ReminderChannel.POPUP
    )
    remind.add_argument("--note", metavar="TEXT")
    remind.add_argument("--json", action="store_true")
    remind.set_defaults(handler=_remind)

    listing = task.add_parser("reminders", help="your reminders on a task (and those you set)")
    listing.add_argument("number")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=_list)

    unremind = task.add_parser("unremind", help="remove a reminder")
    unremind.add_argument("id", type=int)
    unremind.set_defaults(handler=_unremind)


def _zone(ctx: CommandContext) -> ZoneInfo:
    return ZoneInfo(ctx.settings.server.default_time_zone)


def _local_time(text: str, zone: ZoneInfo) -> dt.datetime:
    try:
        when = dt.datetime.fromisoformat(text.strip().replace(" ", "T", 1))
    except ValueError as exc:
        raise InvalidInput("--at", f"expected YYYY-MM-DD HH:MM, got {text!r}") from exc
    return (when if when.tzinfo else when.replace(tzinfo=zone)).astimezone(dt.UTC)


def _spec(args: argparse.Namespace, zone: ZoneInfo, employee_id: int | None) -> ReminderSpec:
    base = ReminderSpec(
        channel=ReminderChannel(args.channel), note=args.note, employee_id=employee_id
    )
    if args.at:
        return dataclasses.replace(base, at=_local_time(args.at, zone))
    if args.before_due is not None:
        before, anchor = args.before_due, ReminderAnchor.DUE
    else:
        before, anchor = args.before_start, ReminderAnchor.PLANNED_START
    if before < 0:
        raise InvalidInput("--before", "minutes before the date, not a negative number")
    return dataclasses.replace(base, relative_to=anchor, offset_minutes=-before)


def _remind(ctx: CommandContext, args: argparse.Namespace) -> int:
    zone = _zone(ctx)
    with ctx.unit_of_work() as uow:
        task_id = readable_task_id(uow.session, uow.actor, args.number)
        who = employee_by_login(uow.session, args.who, field="--who").id if args.who else None
        reminder = reminders.add_reminder(uow, task_id, _spec(args, zone, who))
        view = next(v for v in reminders.list_reminders(uow, task_id) if v.id == reminder.id)
    if args.json:
        print_json(view)
    else:
        print(f"reminder {view.id} set on {view.number}: {_describe(view, zone)}")
    return 0


def _list(ctx: CommandContext, args: argparse.Namespace) -> int:
    zone = _zone(ctx)
    with ctx.unit_of_work(read_only=True) as uow:
        views = reminders.list_reminders(uow, readable_task_id(uow.session, uow.actor, args.number))
    if args.json:
        print_json(views)
        return 0
    print_table(
        ["id", "who", "channel", "when", "goes off", "state", "note"],
        [
            [
                v.id,
                v.employee,
                v.channel,
                _describe(v, zone),
                _local(v.trigger_at, zone),
                _state(v, zone),
                (v.note or "")[:40],
            ]
            for v in views
        ],
    )
    return 0


def _unremind(ctx: CommandContext, args: argparse.Namespace) -> int:
    with ctx.unit_of_work() as uow:
        reminders.delete_reminder(uow, args.id)
    print(f"reminder {args.id} removed")
    return 0


def _local(value: dt.datetime | None, zone: ZoneInfo) -> str:
    return "-" if value is None else f"{value.astimezone(zone):%Y-%m-%d %H:%M}"


def _describe(view: ReminderView, zone: ZoneInfo) -> str:
    if view.remind_at is not None:
        return _local(view.remind_at, zone)
    minutes = view.offset_minutes or 0
    date = "due" if view.relative_to is ReminderAnchor.DUE else "start"
    return f"{abs(minutes)} min {'before' if minutes <= 0 else 'after'} {date}"


def _state(view: ReminderView, zone: ZoneInfo) -> str:
    if view.channel is not ReminderChannel.POPUP:
        return "sent" if view.last_fired_at is not None else "pending"
    ack, at = view.acknowledged_at, view.trigger_at
    if ack is not None and at is not None and ack >= at:
        return "dismissed"
    if view.snoozed_until is not None:
        return f"snoozed until {_local(view.snoozed_until, zone)}"
    return "pending" if view.trigger_at is not None else "no date"
