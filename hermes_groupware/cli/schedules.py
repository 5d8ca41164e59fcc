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
A schedule sends one or more reports together, in one e-mail. Every Monday at 8:00 the
director gets the overdue and the pipeline reports in one mail, with Excel and PDF files:

  hermes-groupware schedule add --report overdue,pipeline --cron "0 8 * * MON" --to director \\
      --format html,xlsx,pdf

--report (comma-separated, or repeated) lists the reports in the mail's order; --view NAME
adds the rows of a saved view as one more report (--report overdue --view "Zaległe" is two).
--param KEY=VALUE sets a parameter of the only report; with several reports name the report:
--param pipeline.months=3. A bare KEY is then refused even if only one of the reports knows
it, so a command keeps its meaning when a report gets a new parameter. On update, --report
replaces the list and the reports that stay keep their parameters; --param REPORT.KEY= (no
value) removes one.

--cron takes 5 fields (minute hour day-of-month month day-of-week; names such as MON or JAN
work) in --tz (Europe/Warsaw). Across DST a time keeps its wall clock: 08:00 stays 08:00; a
time that happens twice in October fires once; one that does not exist in March (02:30) fires
at the first minute after the gap (03:00).

--to (repeatable, or comma-separated): a login, group:SLUG (or a group's slug that is no
login), or an e-mail address; an employee's address counts as that employee. Every employee
gets the reports with their own rights, in their language and time zone; an outside address
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
        help="schedule reports sent together in one e-mail",
        description=_ABOUT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _definition(add, adding=True)
    add.set_defaults(handler=_add)
    update = schedule.add_parser(
        "update",
        help="change a schedule (--report, --to and --format replace; --param KEY= removes)",
    )
    update.add_argument("id", type=int)
    _definition(update, adding=False)
    update.set_defaults(handler=_update)
    for name, handler, about in (
        ("list", _list, "schedules with their next and last run"),
        ("show", _show, "one schedule, its next 5 fire times and last 10 runs"),
        ("delete", _delete, "delete a schedule with its runs"),
        ("run-now", _run_now, "send a schedule's reports now, from this process"),
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
    parser.add_argument(
        "--report",
        action="append",
        metavar="LIST",
        help=f"reports, in the mail's order: {', '.join(k.value for k in ReportKind)}",
    )
    parser.add_argument("--cron", required=adding, metavar='"M H DOM MON DOW"')
    parser.add_argument("--tz", metavar="ZONE", help="IANA time zone (Europe/Warsaw)")
    parser.add_argument("--to", action="append", required=adding, metavar="RECIPIENT")
    parser.add_argument("--format", metavar="LIST", help="html,csv,xlsx,pdf (html: the body)")
    parser.add_argument("--name", help="unique name (default: reports, recipients and cron)")
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="[REPORT.]KEY=VALUE",
        help="a report parameter; REPORT. is required with several reports",
    )
    parser.add_argument("--view", metavar="NAME", help="a saved view (adds the report view)")
    parser.add_argument("--grace", metavar="MINUTES", help='catch-up window ("default")')
    parser.add_argument("--locale", choices=[x.value for x in Locale], help="for outside addresses")
    parser.add_argument("--owner", metavar="LOGIN", help="told about failures (default: you)")
    if adding:
        parser.add_argument(
            "--skip-if-empty", action="store_true", help="no mail whose reports are all empty"
        )
        parser.add_argument("--disabled", action="store_true", help="save it paused")
    else:
        parser.add_argument("--skip-if-empty", choices=["on", "off"])
        parser.add_argument("--enabled", choices=["on", "off"])
    parser.add_argument("--json", action="store_true")


def _spec(args: argparse.Namespace, current: ScheduleView | None) -> ScheduleSpec:
    """The options as a spec; each report's parameters checked by its report module."""
    listed = [k.strip() for value in args.report or () for k in value.split(",") if k.strip()]
    if args.report is None and current is not None:
        listed = [kind.value for kind in current.reports]  # an update keeps them
    if args.view and ReportKind.VIEW.value not in listed:
        listed.append(ReportKind.VIEW.value)
    if not listed:
        raise InvalidInput("report", "give --report (or --view)")
    reports = report_schedule_admin.parse_reports(listed, field="report")
    changed = args.report is not None or args.view is not None
    given = [*args.param, *([f"view.view={args.view}"] if args.view else [])]
    check = current is None or changed or given
    recipients = [r.strip() for value in args.to or () for r in value.split(",") if r.strip()]
    default_name = f"{'+'.join(reports)} to {', '.join(recipients)} at {args.cron}"[:200]
    default_grace = args.grace == "default"
    return ScheduleSpec(
        name=args.name or (default_name if current is None else None),
        reports=reports if changed else None,
        params=_params(reports, given, current) if check else None,
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


def _params(
    reports: tuple[ReportKind, ...], given: list[str], current: ScheduleView | None
) -> dict[str, dict[str, Any]]:
    """Every report's parameters: the current ones of the reports that stay, changed by the
    ``[REPORT.]KEY=VALUE`` items (an empty value removes the key), then checked per report."""
    params = {k.value: dict(current.params.get(k.value, {})) if current else {} for k in reports}
    for item in given:
        kind, key, value = _param(item, reports)
        if value:
            params[kind][key] = value
        else:
            params[kind].pop(key, None)
    checked = {}
    for kind in reports:
        try:
            checked[kind.value] = registry.check_params(kind, params[kind.value])
        except InvalidInput as exc:  # "params.months" becomes "params.pipeline.months"
            field = f"params.{kind.value}" + exc.field.removeprefix("params")
            raise InvalidInput(field, exc.message.removeprefix(f"{exc.field}: ")) from exc
    return checked


def _param(item: str, reports: tuple[ReportKind, ...]) -> tuple[str, str, str]:
    """``[REPORT.]KEY=VALUE`` as (report kind, key, value); the report may be left out only
    when the schedule has one."""
    name, equals, value = item.partition("=")
    prefix, dot, key = name.strip().rpartition(".")
    if not equals or not key.strip():
        raise InvalidInput("param", f"expected [REPORT.]KEY=VALUE, got {item!r}")
    if not dot:
        if len(reports) > 1:
            choices = " or ".join(f"{kind}.{key.strip()}={value}" for kind in reports)
            raise InvalidInput(
                "param",
                f"{item!r} is ambiguous with several reports ({', '.join(reports)}): "
                f"give {choices}",
            )
        return reports[0].value, key.strip(), value
    kind = next((k for k in reports if k.value == prefix.strip()), None)
    if kind is None:
        listed = ", ".join(reports)
        raise InvalidInput("param", f"{item!r}: {prefix!r} is not one of the reports ({listed})")
    return kind.value, key.strip(), value


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
    reports = ", ".join(view.reports)
    print(f"{verb} schedule {view.id} ({view.name}): {reports} at {view.cron} {view.time_zone}")
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
        ["id", "name", "reports", "cron", "zone", "enabled", "next run", "last run"],
        [
            [
                v.id,
                v.name,
                ", ".join(v.reports),
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
        "reports": ", ".join(view.reports),
        "parameters": _param_text(view),
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


def _param_text(view: ScheduleView) -> str:
    """The parameters as ``--param`` takes them: ``pipeline.months=3, overdue.register=HAN``."""
    items = [
        f"{kind}.{key}={value if isinstance(value, str) else json.dumps(value)}"
        for kind in view.reports
        for key, value in view.params.get(kind.value, {}).items()
        if value is not None
    ]
    return ", ".join(items) or "-"


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
