"""``db upgrade``, ``db status`` and ``demo-data``."""

from __future__ import annotations

import argparse

from hermes_groupware import demo
from hermes_groupware.cli.context import CommandContext
from hermes_groupware.cli.output import print_json, progress
from hermes_groupware.db import migrate
from hermes_groupware.errors import InvalidInput


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the commands."""
    db = commands.add_parser("db", help="database schema").add_subparsers(
        dest="db_command", metavar="ACTION", required=True
    )
    upgrade = db.add_parser("upgrade", help="create or migrate the schema to the newest version")
    upgrade.set_defaults(handler=_upgrade)
    status = db.add_parser("status", help="show the schema version")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.set_defaults(handler=_status)

    data = commands.add_parser(
        "demo-data", help="load realistic Polish demo data (employees, registers, customers, tasks)"
    )
    data.add_argument("--tasks", type=int, default=300, metavar="N", help="tasks to create (300)")
    data.add_argument("--seed", type=int, default=2026, metavar="S", help="random seed (2026)")
    data.add_argument(
        "--if-empty", action="store_true", help="do nothing when the database already has employees"
    )
    data.add_argument("--json", action="store_true", help="machine-readable summary")
    data.set_defaults(handler=_demo_data)


def _upgrade(ctx: CommandContext, _args: argparse.Namespace) -> int:
    migrate.upgrade(ctx.database.engine)
    progress(f"database at revision {migrate.current_revision(ctx.database.engine)}")
    return 0


def _status(ctx: CommandContext, args: argparse.Namespace) -> int:
    engine = ctx.database.engine
    current, head = migrate.current_revision(engine), migrate.head_revision(engine)
    status = {"current": current, "head": head, "up_to_date": current == head}
    if args.json:
        print_json(status)
    else:
        print(
            f"current {current or '(empty)'}, newest {head}"
            + ("" if current == head else " - run: hermes-groupware db upgrade")
        )
    return 0 if current == head else 1


def _demo_data(ctx: CommandContext, args: argparse.Namespace) -> int:
    with ctx.unit_of_work() as uow:
        if not demo.is_empty(uow):
            if args.if_empty:
                progress("demo data skipped: the database is not empty")
                return 0
            raise InvalidInput(
                "demo-data",
                "the database already has employees; demo data "
                "goes only into an empty database (--if-empty skips quietly)",
            )
        summary = demo.load(
            uow,
            tasks=args.tasks,
            seed=args.seed,
            demo_mode=ctx.settings.server.demo,
            report=progress,
        )
    if args.json:
        print_json(summary)
    else:
        print(
            f"loaded {summary.employees} employees, {summary.registers} registers, "
            f"{summary.customers} customers, {summary.tasks} tasks"
        )
        if summary.app_password:
            print(f"every demo employee's app password: {summary.app_password}")
    return 0
