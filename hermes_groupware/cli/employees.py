"""``employee add|list|set-password|handover|absence`` and ``group add``."""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import secrets
import sys

from hermes_groupware.cli.context import CommandContext
from hermes_groupware.cli.output import print_json, print_table
from hermes_groupware.errors import InvalidInput
from hermes_groupware.models.enums import Locale
from hermes_groupware.services import absences, console_sessions, delegation, directory


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the commands."""
    employee = commands.add_parser("employee", help="employees").add_subparsers(
        dest="employee_command", metavar="ACTION", required=True
    )
    add = employee.add_parser("add", help="add an employee")
    add.add_argument("login", help="CalDAV user name (a-z, 0-9, . _ -)")
    add.add_argument("--first-name", required=True)
    add.add_argument("--last-name", required=True)
    add.add_argument("--email")
    add.add_argument("--mobile")
    add.add_argument("--locale", choices=[lc.value for lc in Locale], default=Locale.PL.value)
    add.add_argument("--tz", default="Europe/Warsaw", help="time zone (Europe/Warsaw)")
    add.add_argument("--admin", action="store_true", help="may administer Hermes Groupware")
    add.add_argument("--group", action="append", default=[], help="group slug (repeatable)")
    add.add_argument("--json", action="store_true")
    add.set_defaults(handler=_add)

    listing = employee.add_parser("list", help="list employees")
    listing.add_argument("--all", action="store_true", help="include inactive employees")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=_list)

    password = employee.add_parser(
        "set-password",
        help="create an app password for CalDAV (generated unless --password-stdin)",
    )
    password.add_argument("login")
    password.add_argument("--label", default="default", help="device name; replaces the same label")
    password.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin"
    )
    password.add_argument("--json", action="store_true")
    password.set_defaults(handler=_set_password)

    console = employee.add_parser(
        "console-password",
        help="set the web console password (generated and printed unless --password-stdin); "
        "ends the employee's console sessions",
    )
    console.add_argument("login")
    console.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin"
    )
    console.set_defaults(handler=_console_password)

    handover = employee.add_parser(
        "handover", help="move every open task of one employee to another, with history"
    )
    handover.add_argument("from_login", metavar="FROM")
    handover.add_argument("to_login", metavar="TO")
    handover.add_argument(
        "--no-substitute", action="store_true", help="do not record TO as FROM's substitute"
    )
    handover.add_argument("--json", action="store_true")
    handover.set_defaults(handler=_handover)

    _absence_commands(employee)

    group = commands.add_parser("group", help="groups (teams)").add_subparsers(
        dest="group_command", metavar="ACTION", required=True
    )
    group_add = group.add_parser("add", help="add a group")
    group_add.add_argument("slug")
    group_add.add_argument("--name", required=True)
    group_add.add_argument("--member", action="append", default=[], help="login (repeatable)")
    group_add.set_defaults(handler=_group_add)


def _add(ctx: CommandContext, args: argparse.Namespace) -> int:
    with ctx.unit_of_work() as uow:
        view = directory.add_employee(
            uow,
            login=args.login,
            first_name=args.first_name,
            last_name=args.last_name,
            email=args.email,
            mobile=args.mobile,
            locale=Locale(args.locale),
            time_zone=args.tz,
            is_admin=args.admin,
            groups=tuple(args.group),
        )
    if args.json:
        print_json(view)
    else:
        print(f"added {view.login} ({view.name})")
    return 0


def _list(ctx: CommandContext, args: argparse.Namespace) -> int:
    with ctx.unit_of_work(read_only=True) as uow:
        views = directory.list_employees(uow, include_inactive=args.all)
    if args.json:
        print_json(views)
    else:
        print_table(
            ["login", "name", "email", "locale", "active", "admin", "groups"],
            [
                [v.login, v.name, v.email, v.locale, v.is_active, v.is_admin, v.groups]
                for v in views
            ],
        )
    return 0


def _console_password(ctx: CommandContext, args: argparse.Namespace) -> int:
    typed = args.password_stdin
    if typed:
        password = (
            sys.stdin.readline().rstrip("\n") if not sys.stdin.isatty() else getpass.getpass()
        )
    else:
        password = secrets.token_urlsafe(12)
    with ctx.unit_of_work() as uow:
        console_sessions.set_password(uow, args.login, password)
    if typed:
        print(f"console password for {args.login} set")
    else:
        print(f"console password for {args.login}: {password}")
        print("it is shown only now; the employee can change it in the console")
    return 0


def _set_password(ctx: CommandContext, args: argparse.Namespace) -> int:
    password = None
    if args.password_stdin:
        password = (
            sys.stdin.readline().rstrip("\n") if not sys.stdin.isatty() else getpass.getpass()
        )
    with ctx.unit_of_work() as uow:
        result = directory.set_app_password(uow, args.login, label=args.label, password=password)
    if args.json:
        print_json(
            {"login": args.login, "label": args.label, "password": None if password else result}
        )
    elif password is None:
        print(f"app password for {args.login} ({args.label}): {result}")
        print("it is shown only now; store it in the calendar client")
    else:
        print(f"app password for {args.login} ({args.label}) set")
    return 0


def _handover(ctx: CommandContext, args: argparse.Namespace) -> int:
    with ctx.unit_of_work() as uow:
        result = delegation.handover(
            uow, args.from_login, args.to_login, set_substitute=not args.no_substitute
        )
    if args.json:
        print_json(result)
    else:
        print(
            f"moved {len(result.task_numbers)} open tasks from {result.from_login} "
            f"to {result.to_login}"
        )
    return 0


def _absence_commands(employee: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    absence = employee.add_parser(
        "absence", help="absences: notifications go to the substitute meanwhile"
    ).add_subparsers(dest="absence_command", metavar="ACTION", required=True)
    absence_add = absence.add_parser("add", help="record an absence")
    absence_add.add_argument("login")
    absence_add.add_argument("--from", dest="starts_on", required=True, metavar="YYYY-MM-DD")
    absence_add.add_argument("--to", dest="ends_on", required=True, metavar="YYYY-MM-DD")
    absence_add.add_argument("--substitute", metavar="LOGIN")
    absence_add.add_argument(
        "--also-notify", action="store_true", help="the absent employee hears it too"
    )
    absence_add.add_argument("--json", action="store_true")
    absence_add.set_defaults(handler=_absence_add)
    absence_list = absence.add_parser("list", help="absences, latest first")
    absence_list.add_argument("login", nargs="?")
    absence_list.add_argument("--json", action="store_true")
    absence_list.set_defaults(handler=_absence_list)
    absence_delete = absence.add_parser("delete", help="remove an absence")
    absence_delete.add_argument("id", type=int)
    absence_delete.set_defaults(handler=_absence_delete)


def _day(text: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInput(option, f"expected YYYY-MM-DD, got {text!r}") from exc


def _absence_add(ctx: CommandContext, args: argparse.Namespace) -> int:
    with ctx.unit_of_work() as uow:
        view = absences.add_absence(
            uow,
            args.login,
            starts_on=_day(args.starts_on, "--from"),
            ends_on=_day(args.ends_on, "--to"),
            substitute=args.substitute,
            notify_absentee=args.also_notify,
        )
    if args.json:
        print_json(view)
    else:
        print(f"absence {view.id}: {view.employee} {view.starts_on} – {view.ends_on}")
    return 0


def _absence_list(ctx: CommandContext, args: argparse.Namespace) -> int:
    with ctx.unit_of_work(read_only=True) as uow:
        views = absences.list_absences(uow, login=args.login)
    if args.json:
        print_json(views)
    else:
        print_table(
            ["id", "employee", "from", "to", "substitute", "also notify"],
            [
                [v.id, v.employee, v.starts_on, v.ends_on, v.substitute, v.notify_absentee]
                for v in views
            ],
        )
    return 0


def _absence_delete(ctx: CommandContext, args: argparse.Namespace) -> int:
    with ctx.unit_of_work() as uow:
        absences.delete_absence(uow, args.id)
    print(f"absence {args.id} deleted")
    return 0


def _group_add(ctx: CommandContext, args: argparse.Namespace) -> int:
    with ctx.unit_of_work() as uow:
        directory.add_group(uow, args.slug, args.name)
        for login in args.member:
            directory.add_member(uow, args.slug, login)
    print(f"added group {args.slug}")
    return 0
