"""``audit list``: who did which admin action, when, through which surface (admins only)."""

from __future__ import annotations

import argparse
import datetime as dt
import json

from hermes_groupware.cli.context import CommandContext
from hermes_groupware.cli.output import print_json, print_table
from hermes_groupware.errors import InvalidInput
from hermes_groupware.services import audit


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the commands."""
    group = commands.add_parser("audit", help="the audit log of admin actions").add_subparsers(
        dest="audit_command", metavar="ACTION", required=True
    )
    listing = group.add_parser(
        "list",
        help="newest first",
        epilog="example: hermes-groupware audit list --since 2026-11-01 --actor akowalska",
    )
    listing.add_argument(
        "--since", metavar="WHEN", help="a date or ISO time (UTC unless it has an offset)"
    )
    listing.add_argument("--actor", metavar="LOGIN", help="only this employee's actions")
    listing.add_argument("--limit", type=int, default=100, help="at most this many (default 100)")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=_list)


def _since(text: str | None) -> dt.datetime | None:
    if text is None:
        return None
    try:
        when = dt.datetime.fromisoformat(text.strip().replace(" ", "T", 1))
    except ValueError as exc:
        raise InvalidInput("since", "expected YYYY-MM-DD or an ISO date and time") from exc
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)


def _list(ctx: CommandContext, args: argparse.Namespace) -> int:
    since = _since(args.since)
    with ctx.unit_of_work(read_only=True) as uow:
        rows = audit.entries(uow, since=since, actor=args.actor, limit=args.limit)
    if args.json:
        print_json(rows)
        return 0
    print_table(
        ["id", "at", "actor", "source", "action", "object", "details"],
        [
            [r.id, r.at, r.actor, r.source, r.action, f"{r.object_type} {r.object_id}", _text(r)]
            for r in rows
        ],
    )
    return 0


def _text(row: audit.AuditView) -> str:
    return json.dumps(row.details, ensure_ascii=False, sort_keys=True)
