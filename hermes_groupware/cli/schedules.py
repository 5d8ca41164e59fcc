"""``schedule add|list|show|update|delete|run-now|runs``: scheduled report e-mails."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

from hermes_groupware.cli.context import CommandContext
from hermes_groupware.cli.output import print_json, print_table, to_jsonable
from hermes_groupware.errors import InvalidInput
from hermes_groupware.models.enums import Locale, ReportKind, ReportRunStatus
from hermes_groupware.services import report_schedule_admin, report_schedules
from hermes_groupware.services.report_schedule_admin import RunView, ScheduleSpec, ScheduleView
from reports import registry

_ABOUT = """\
One schedule sends one report; to send a director the overdue and the pipeline reports every
Monday at 8:00, add two schedules:

  hermes-groupware schedule add --report overdue  --cron "0 8 * * MON" --to director \\
      --format html,xlsx,pdf
  hermes-groupware schedule add --report pipeline --cron "0 8 * * MON" --to director

--cron takes 5 fields (minute hour day-of-month month day-of-week; names such as MON or JAN
work) in --tz (Europe/Warsaw). Across DST a time keeps its wall clock: 08:00 stays 08:00; a
time that happens twice in October fires once; one that does not exist in March (02:30) fires
at the first minute after the gap (03:00).

--to (repeatable, or comma-separated): a login, group:SLUG (or a group's slug that is no
login), or an e-mail address; an employee's address counts as that employee. Every employee
gets the report with their own rights, in their language and time zone; an outside address
sees only what the owner may see in registers that allow it (register update CODE
--external-reports on), in --locale. Employees may schedule reports only to themselves.

A run missed while no server was running is sent once, marked late, if it is not older than
--grace minutes ([reports] grace_minutes); older ones are recorded as missed, never sent.
Exit codes: 0 ok, 1 run-now failed, 2 invalid input, 3 not found, 4 permission denied."""


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the commands."""
    schedule = commands.add_parser(
        "schedule",
        help="scheduled report e-mails",
        description=_ABOUT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    ).add_subparsers(dest="schedule_command", metavar="ACTION", required=True)
    add = schedule.add_parser(
        "add",
        help="schedule a report",
        description=_ABOUT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _definition(add, adding=True)
    add.set_defaults(handler=_add)
    update = schedule.add_parser(
        "update", help="change a schedule (--to and --format replace; --param KEY= removes)"
    )
    update.add_argument("id", type=int)
    _definition(update, adding=False)
    update.set_defaults(handler=_update)
    for name, handler, about in (
        ("list", _list, "schedules with their next and last run"),
        ("show", _show, "one schedule, its next 5 fire times and last 10 runs"),
        ("delete", _delete, "delete a schedule with its runs"),
        ("run-now", _run_now, "send a schedule's report now, from this process"),
        ("runs", _runs, "the runs of a schedule, newest first"),
    ):
        action = schedule.add_parser(name, help=about)
        if name != "list":
            action.add_argument("id", type=int)
        if name == "runs":
            action.add_argument("--limit", type=int, default=20)
        if name != "delete":
            action.add_argument("--json", action="store_true")
        action.set_defaults(handler=handler)


def _definition(parser: argparse.ArgumentParser, *, adding: bool) -> None:
    parser.add_argument("--report", choices=[k.value for k in ReportKind])
    parser.add_argument("--cron", required=adding, metavar='"M H DOM MON DOW"')
    parser.add_argument("--tz", metavar="ZONE", help="IANA time zone (Europe/Warsaw)")
    parser.add_argument("--to", action="append", required=adding, metavar="RECIPIENT")
    parser.add_argument("--format", metavar="LIST", help="html,csv,xlsx,pdf (html: the body)")
    parser.add_argument("--name", help="unique name (default: report, recipients and cron)")
    parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--view", metavar="NAME", help="the saved view (implies --report view)")
    parser.add_argument("--grace", metavar="MINUTES", help='catch-up window ("default")')
    parser.add_argument("--locale", choices=[x.value for x in Locale], help="for outside addresses")
    parser.add_argument("--owner", metavar="LOGIN", help="told about failures (default: you)")
    if adding:
        parser.add_argument("--skip-if-empty", action="store_true", help="send no empty report")
        parser.add_argument("--disabled", action="store_true", help="save it paused")
    else:
        parser.add_argument("--skip-if-empty", choices=["on", "off"])
        parser.add_argument("--enabled", choices=["on", "off"])
    parser.add_argument("--json", action="store_true")


def _spec(args: argparse.Namespace, current: ScheduleView | None) -> ScheduleSpec:
    """The options as a spec; report parameters checked by the report module."""
    report = args.report or ("view" if args.view else None)
    kind = report or (current.report if current else None)
    if kind is None:
        raise InvalidInput("report", "give --report (or --view)")
    params = dict(current.params) if current and kind == current.report else {}
    given = [*args.param, *([f"view={args.view}"] if args.view else [])]
    for item in given:
        key, equals, value = item.partition("=")
        if not equals or not key.strip():
            raise InvalidInput("param", f"expected KEY=VALUE, got {item!r}")
        if value:
            params[key.strip()] = value
        else:
            params.pop(key.strip(), None)
    check = current is None or report is not None or given
    recipients = [r.strip() for value in args.to or () for r in value.split(",") if r.strip()]
    default_name = f"{kind} to {', '.join(recipients)} at {args.cron}"[:200]
    default_grace = args.grace == "default"
    return ScheduleSpec(
        name=args.name or (default_name if current is None else None),
        report=report,
        params=registry.check_params(ReportKind(kind), params) if check else None,
        cron=args.cron,
        time_zone=args.tz,
        recipients=recipients if args.to else None,
        formats=args.format.split(",") if args.format else None,
        skip_if_empty=_switch(args.skip_if_empty),
        enabled=not args.disabled if current is None else _switch(args.enabled),
        grace_minutes=None if default_grace or args.grace is None else _minutes(args.grace),
        default_grace=default_grace,
        locale=args.locale,
        owner=args.owner,
    )


def _switch(value: bool | str | None) -> bool | None:
    """``--flag`` (add) or ``on|off`` (update) as a bool; None when not given."""
    if isinstance(value, bool) or value is None:
        return value or None
    return value == "on"


def _minutes(text: str) -> int:
    if not text.strip().isdigit():
        raise InvalidInput("grace", f"minutes or 'default', got {text!r}")
    return int(text)


def _add(ctx: CommandContext, args: argparse.Namespace) -> int:
    with ctx.unit_of_work() as uow:
        view = report_schedule_admin.create_schedule(uow, _spec(args, None))
    _print_saved(view, "added", as_json=args.json)
    return 0


def _update(ctx: CommandContext, args: argparse.Namespace) -> int:
    with ctx.unit_of_work() as uow:
        current = report_schedule_admin.get_schedule(uow, args.id)
        view = report_schedule_admin.update_schedule(uow, args.id, _spec(args, current))
    _print_saved(view, "updated", as_json=args.json)
    return 0


def _print_saved(view: ScheduleView, verb: str, *, as_json: bool) -> None:
    if as_json:
        print_json(_jsonable(view))
        return
    print(f"{verb} schedule {view.id} ({view.name}): {view.report}, {view.cron} {view.time_zone}")
    print(f"next run: {_next_run(view)}")


def _next_run(view: ScheduleView) -> str:
    if view.next_fire_at is None:
        return "- (disabled)"
    local = view.next_fire_at.astimezone(ZoneInfo(view.time_zone))
    return f"{local:%Y-%m-%d %H:%M %Z} ({view.next_fire_at:%Y-%m-%d %H:%M} UTC)"


def _jsonable(view: ScheduleView, **extra: Any) -> dict[str, Any]:
    local = view.next_fire_at.astimezone(ZoneInfo(view.time_zone)) if view.next_fire_at else None
    return {**to_jsonable(view), "next_fire_local": to_jsonable(local), **to_jsonable(extra)}


def _list(ctx: CommandContext, args: argparse.Namespace) -> int:
    with ctx.unit_of_work(read_only=True) as uow:
        views = report_schedule_admin.list_schedules(uow)
    if args.json:
        print_json([_jsonable(v) for v in views])
        return 0
    print_table(
        ["id", "name", "report", "cron", "zone", "enabled", "next run", "last run"],
        [
            [
                v.id,
                v.name,
                v.report,
                v.cron,
                v.time_zone,
                v.enabled,
                _next_run(v).split(" (")[0],
                f"{v.last_run.occurrence_local} {v.last_run.status}" if v.last_run else None,
            ]
            for v in views
        ],
    )
    return 0


def _show(ctx: CommandContext, args: argparse.Namespace) -> int:
    with ctx.unit_of_work(read_only=True) as uow:
        view = report_schedule_admin.get_schedule(uow, args.id)
        runs = report_schedule_admin.list_runs(uow, args.id, limit=10)
        upcoming = report_schedule_admin.upcoming(view, uow.now())
    if args.json:
        print_json(_jsonable(view, upcoming=upcoming, runs=runs))
        return 0
    grace = view.grace_minutes
    fields = {
        "report": f"{view.report} {json.dumps(view.params)}" if view.params else view.report,
        "cron": f"{view.cron} ({view.time_zone})",
        "to": ", ".join(view.recipients),
        "unsubscribed": ", ".join(view.unsubscribed) or "-",
        "formats": ", ".join(view.formats),
        "owner": view.owner,
        "language": f"{view.locale} (outside addresses)",
        "skip if empty": "yes" if view.skip_if_empty else "no",
        "enabled": "yes" if view.enabled else "no",
        "grace": f"{ctx.settings.reports.grace_minutes} min (default)"
        if grace is None
        else f"{grace} min",
        "version": view.version,
    }
    print(f"schedule {view.id}: {view.name}")
    for key, value in fields.items():
        print(f"  {key + ':':<15}{value}")
    print("next runs:")
    for when in upcoming:
        print(f"  {when:%Y-%m-%d %H:%M %Z} ({when.astimezone(dt.UTC):%H:%M} UTC)")
    print("last runs:")
    _print_runs(runs)
    return 0


def _print_runs(runs: list[RunView]) -> None:
    print_table(
        ["run", "scheduled", "status", "late", "attempts", "recipients", "error"],
        [
            [r.id, r.occurrence_local, r.status, r.late, r.attempts, r.recipients, r.error]
            for r in runs
        ],
    )


def _delete(ctx: CommandContext, args: argparse.Namespace) -> int:
    with ctx.unit_of_work() as uow:
        report_schedule_admin.delete_schedule(uow, args.id)
    print(f"deleted schedule {args.id}")
    return 0


def _run_now(ctx: CommandContext, args: argparse.Namespace) -> int:
    """Queue and claim in one transaction, so no server takes the run; then deliver it here."""
    # charts and PDF are loaded only by the commands that render
    from reports.delivery import deliver_run  # noqa: PLC0415
    from reports.scheduler import instance_id  # noqa: PLC0415

    settings, instance = ctx.settings, instance_id()
    with ctx.unit_of_work() as uow:
        run_id = report_schedules.run_now(uow, args.id)
        jobs = report_schedules.claim_runs(
            uow, instance=instance, lease_seconds=settings.reports.lease_seconds, run_id=run_id
        )
    for job in jobs:
        deliver_run(ctx.current_database, settings, job, instance=instance)
    with ctx.unit_of_work(read_only=True) as uow:
        run = report_schedule_admin.get_run(uow, run_id)
    if args.json:
        print_json(run)
    else:
        outcome = f"{run.status}, {run.recipients} recipient(s)"
        print(f"run {run.id}: {outcome}" + (f": {run.error}" if run.error else ""))
        if run.status is ReportRunStatus.SENT:
            print("the mails are in the outbox; a running server sends them")
    return 0 if run.status in (ReportRunStatus.SENT, ReportRunStatus.EMPTY) else 1


def _runs(ctx: CommandContext, args: argparse.Namespace) -> int:
    with ctx.unit_of_work(read_only=True) as uow:
        runs = report_schedule_admin.list_runs(uow, args.id, limit=args.limit)
    if args.json:
        print_json(runs)
    else:
        _print_runs(runs)
    return 0
