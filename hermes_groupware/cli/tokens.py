"""``token create|list|revoke``: API tokens for scripts and other systems (see docs/api.md)."""

from __future__ import annotations

import argparse
import datetime as dt

from hermes_groupware.cli.context import CommandContext
from hermes_groupware.cli.output import print_json, print_table
from hermes_groupware.services import api_tokens


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the commands."""
    token = commands.add_parser("token", help="API tokens").add_subparsers(
        dest="token_command", metavar="ACTION", required=True
    )
    create = token.add_parser(
        "create",
        help="a bearer token for the HTTP API (printed once)",
        epilog="example: hermes-groupware token create --owner jkowalski --name ERP "
        "--scopes read,write --days 365",
    )
    create.add_argument("--owner", required=True, metavar="LOGIN", help="who the token acts as")
    create.add_argument("--name", required=True, help="what it is for")
    create.add_argument(
        "--scopes", default="read", metavar="LIST", help="read, write, admin (default: read)"
    )
    create.add_argument("--days", type=int, default=90, help="valid this many days (1-3650)")
    create.add_argument("--json", action="store_true")
    create.set_defaults(handler=_create)

    listing = token.add_parser("list", help="tokens (never the tokens themselves)")
    listing.add_argument("--owner", metavar="LOGIN", help="default: yourself (with --as)")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=_list)

    revoke = token.add_parser("revoke", help="stop a token at once")
    revoke.add_argument("id", type=int)
    revoke.set_defaults(handler=_revoke)


def _create(ctx: CommandContext, args: argparse.Namespace) -> int:
    scopes = [s.strip() for s in args.scopes.split(",") if s.strip()]
    with ctx.unit_of_work() as uow:
        view, token = api_tokens.issue_for(
            uow, args.owner, name=args.name, scopes=scopes, lifetime=dt.timedelta(days=args.days)
        )
    if args.json:
        print_json({"token": token, **vars(view)})
        return 0
    print(token)
    print(f"token {view.id} for {args.owner}, scopes {','.join(view.scopes)}, "
          f"expires {view.expires_at:%Y-%m-%d}; it is shown only this once")  # fmt: skip
    return 0


def _list(ctx: CommandContext, args: argparse.Namespace) -> int:
    with ctx.unit_of_work(read_only=True) as uow:
        rows = api_tokens.tokens_of(uow, args.owner)
    if args.json:
        print_json(rows)
        return 0
    print_table(
        ["id", "name", "hint", "scopes", "expires", "last used", "revoked"],
        [
            [r.id, r.name, r.hint, ",".join(r.scopes), r.expires_at, r.last_used_at, r.revoked_at]
            for r in rows
        ],
    )
    return 0


def _revoke(ctx: CommandContext, args: argparse.Namespace) -> int:
    with ctx.unit_of_work() as uow:
        api_tokens.revoke_any(uow, args.id)
    print(f"token {args.id} revoked")
    return 0
