"""``register add|update|list|grant``."""

from __future__ import annotations

import argparse

from hermes_groupware.cli.context import CommandContext
from hermes_groupware.cli.output import print_json, print_table
from hermes_groupware.models.enums import AccessLevel
from hermes_groupware.services import registers


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the commands."""
    reg = commands.add_parser("register", help="registers (kinds of case)").add_subparsers(
        dest="register_command", metavar="ACTION", required=True
    )
    add = reg.add_parser("add", help="add a register")
    add.add_argument("code", help="short code used in task numbers, e.g. REK")
    add.add_argument("--name", required=True)
    add.add_argument("--colour", "--color", required=True, help="calendar colour, #RRGGBB")
    add.add_argument("--email", help="inbound address that opens new tasks")
    add.add_argument("--default-assignee", metavar="LOGIN")
    add.add_argument("--manager", metavar="LOGIN")
    add.add_argument(
        "--default-access",
        choices=[a.value for a in AccessLevel],
        default="read",
        help="what every employee without a grant may do (read)",
    )
    add.add_argument("--json", action="store_true")
    add.set_defaults(handler=_add)

    update = reg.add_parser("update", help="change a register (its code stays)")
    update.add_argument("code")
    update.add_argument("--name")
    update.add_argument("--colour", "--color", help="calendar colour, #RRGGBB")
    update.add_argument("--email", help='inbound address that opens new tasks ("" removes it)')
    update.add_argument("--default-assignee", metavar="LOGIN", help='"" removes it')
    update.add_argument("--manager", metavar="LOGIN", help='"" removes it')
    update.add_argument(
        "--email-commands",
        choices=["on", "off"],
        help="let verified employees change tasks with #status:/#termin:/#przypisz: lines",
    )
    update.add_argument(
        "--invitations",
        choices=["on", "off"],
        help="assignment mails of planned tasks carry a calendar invitation",
    )
    update.add_argument(
        "--external-reports",
        choices=["on", "off"],
        help="scheduled reports may go to outside addresses, showing only this register's tasks",
    )
    update.add_argument("--json", action="store_true")
    update.set_defaults(handler=_update)

    listing = reg.add_parser("list", help="list the registers you may see")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=_list)

    grant = reg.add_parser("grant", help="give an employee or a group access to a register")
    grant.add_argument("code")
    grant.add_argument("level", choices=[a.value for a in AccessLevel])
    who = grant.add_mutually_exclusive_group(required=True)
    who.add_argument("--employee", metavar="LOGIN")
    who.add_argument("--group", metavar="SLUG")
    grant.set_defaults(handler=_grant)


def _add(ctx: CommandContext, args: argparse.Namespace) -> int:
    with ctx.unit_of_work() as uow:
        view = registers.add_register(
            uow,
            code=args.code,
            name=args.name,
            colour=args.colour,
            inbound_email=args.email,
            default_assignee=args.default_assignee,
            manager=args.manager,
            default_access=AccessLevel(args.default_access),
        )
    if args.json:
        print_json(view)
    else:
        print(f"added register {view.code} ({view.name})")
    return 0


def _update(ctx: CommandContext, args: argparse.Namespace) -> int:
    changes = registers.RegisterChanges(
        name=args.name,
        colour=args.colour,
        inbound_email=args.email,
        default_assignee=args.default_assignee,
        manager=args.manager,
        email_commands=None if args.email_commands is None else args.email_commands == "on",
        send_invitations=None if args.invitations is None else args.invitations == "on",
        external_reports=None if args.external_reports is None else args.external_reports == "on",
    )
    with ctx.unit_of_work() as uow:
        view = registers.update_register(uow, args.code, changes)
    if args.json:
        print_json(view)
    else:
        print(f"updated register {view.code} ({view.name})")
    return 0


def _list(ctx: CommandContext, args: argparse.Namespace) -> int:
    with ctx.unit_of_work(read_only=True) as uow:
        views = registers.list_registers(uow)
    if args.json:
        print_json(views)
    else:
        print_table(
            ["code", "name", "colour", "email", "default assignee", "access"],
            [
                [v.code, v.name, v.colour, v.inbound_email, v.default_assignee, v.default_access]
                for v in views
            ],
        )
    return 0


def _grant(ctx: CommandContext, args: argparse.Namespace) -> int:
    with ctx.unit_of_work() as uow:
        registers.grant(
            uow, args.code, AccessLevel(args.level), login=args.employee, group=args.group
        )
    print(f"{args.employee or args.group}: {args.level} on {args.code.upper()}")
    return 0
