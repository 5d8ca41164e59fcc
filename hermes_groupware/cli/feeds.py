"""``feed create|list|show|update|rotate|revoke|delete``: subscription links for calendars."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
from typing import Any
from urllib.parse import quote

from hermes_groupware.cli.context import CommandContext
from hermes_groupware.cli.output import print_json, print_table
from hermes_groupware.errors import InvalidInput
from hermes_groupware.models.enums import FeedProfile, Priority, Redaction, TaskStatus
from hermes_groupware.services import feeds
from hermes_groupware.services.feeds import FeedSpec


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the commands."""
    feed = commands.add_parser("feed", help="subscription feeds (.ics links)").add_subparsers(
        dest="feed_command", metavar="ACTION", required=True
    )
    create = feed.add_parser("create", help="create a feed and print its links")
    create.add_argument("--name", required=True)
    create.add_argument(
        "--owner", required=True, metavar="LOGIN", help="whose rights limit what the feed shows"
    )
    _definition_options(create)
    create.set_defaults(handler=_create)

    update = feed.add_parser("update", help="change a feed (its links stay)")
    update.add_argument("id", type=int)
    update.add_argument("--name")
    update.add_argument("--owner", metavar="LOGIN")
    _definition_options(update)
    update.set_defaults(handler=_update)

    listing = feed.add_parser("list", help="list feeds")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=_list)

    show = feed.add_parser("show", help="a feed with its https://, webcal:// and Google links")
    show.add_argument("id", type=int)
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=_show)

    rotate = feed.add_parser("rotate", help="new link; the old one works for --grace hours")
    rotate.add_argument("id", type=int)
    rotate.add_argument("--grace", type=float, default=0, metavar="HOURS")
    rotate.add_argument("--json", action="store_true")
    rotate.set_defaults(handler=_rotate)

    for name, handler, text in (
        ("revoke", _revoke, "stop every link of a feed at once"),
        ("delete", _delete, "delete a feed and its links"),
    ):
        action = feed.add_parser(name, help=text)
        action.add_argument("id", type=int)
        action.set_defaults(handler=handler)


def _definition_options(parser: argparse.ArgumentParser) -> None:
    scope = parser.add_argument_group("scope (exactly one)")
    scope.add_argument("--register", action="append", default=[], metavar="CODE")
    scope.add_argument("--employee", metavar="LOGIN")
    scope.add_argument("--group", metavar="SLUG")
    scope.add_argument("--customer", type=int, metavar="ID")
    scope.add_argument(
        "--view", metavar="NAME", help="a saved view the owner may use (`view list --as OWNER`)"
    )
    parser.add_argument(
        "--profile",
        choices=[p.value for p in FeedProfile],
        help="event-due (default: Outlook/Google), vtodo, event-span, both",
    )
    parser.add_argument("--redaction", choices=[r.value for r in Redaction])
    parser.add_argument("--tz", metavar="ZONE", help="time zone (Europe/Warsaw)")
    parser.add_argument("--ttl", type=int, metavar="MINUTES", help="refresh hint (60)")
    parser.add_argument("--colour", "--color", metavar="#RRGGBB")
    parser.add_argument("--alarms", action=argparse.BooleanOptionalAction, default=None)
    parser.add_argument(
        "--status", action="append", default=[], choices=[s.value for s in TaskStatus]
    )
    parser.add_argument(
        "--priority", action="append", default=[], choices=[p.value for p in Priority]
    )
    parser.add_argument("--include-completed", action=argparse.BooleanOptionalAction, default=None)
    parser.add_argument("--days-back", type=int)
    parser.add_argument("--days-ahead", type=int)
    parser.add_argument("--max-items", type=int)
    parser.add_argument("--expires", metavar="YYYY-MM-DD", help="links stop working that day")
    parser.add_argument("--json", action="store_true")


def _spec(args: argparse.Namespace, base: FeedSpec) -> FeedSpec:
    changes: dict[str, Any] = {}
    if args.register or args.employee or args.group or args.customer is not None or args.view:
        changes |= {
            "registers": tuple(args.register),
            "employee": args.employee,
            "group": args.group,
            "customer_id": args.customer,
            "view": args.view,
        }
    simple = {
        "name": args.name,
        "owner": args.owner,
        "time_zone": args.tz,
        "ttl_minutes": args.ttl,
        "colour": args.colour,
        "alarms": args.alarms,
        "include_completed": args.include_completed,
        "days_back": args.days_back,
        "days_ahead": args.days_ahead,
        "max_items": args.max_items,
    }
    changes |= {k: v for k, v in simple.items() if v is not None}
    if args.profile:
        changes["profile"] = FeedProfile(args.profile)
    if args.redaction:
        changes["redaction"] = Redaction(args.redaction)
    if args.status:
        changes["statuses"] = tuple(TaskStatus(s) for s in args.status)
    if args.priority:
        changes["priorities"] = tuple(Priority(p) for p in args.priority)
    if args.expires:
        try:
            day = dt.date.fromisoformat(args.expires)
        except ValueError as exc:
            raise InvalidInput("--expires", "expected YYYY-MM-DD") from exc
        changes["expires_at"] = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
    return dataclasses.replace(base, **changes)


def links(public_url: str, token: str) -> dict[str, str]:
    """The three ways to subscribe to one link."""
    https = f"{public_url.rstrip('/')}/feeds/{token}.ics"
    webcal = "webcal://" + https.split("://", 1)[1]
    return {
        "https": https,
        "webcal": webcal,
        "google": "https://calendar.google.com/calendar/r?cid=" + quote(webcal, safe=""),
    }


def _create(ctx: CommandContext, args: argparse.Namespace) -> int:
    base = FeedSpec(name=args.name, owner=args.owner)
    with ctx.unit_of_work() as uow:
        view, token = feeds.create_feed(uow, _spec(args, base), secret=ctx.settings.secret_key)
    _print_feed(ctx, view, [token], args.json)
    return 0


def _update(ctx: CommandContext, args: argparse.Namespace) -> int:
    with ctx.unit_of_work() as uow:
        view = feeds.update_feed(uow, args.id, _spec(args, feeds.get_spec(uow, args.id)))
        tokens = feeds.current_tokens(uow, args.id, secret=ctx.settings.secret_key)
    _print_feed(ctx, view, tokens, args.json)
    return 0


def _list(ctx: CommandContext, args: argparse.Namespace) -> int:
    with ctx.unit_of_work(read_only=True) as uow:
        views = feeds.list_feeds(uow)
    if args.json:
        print_json(views)
    else:
        print_table(
            ["id", "name", "owner", "scope", "profile", "redaction", "last fetched"],
            [
                [
                    v.id,
                    v.name,
                    v.owner,
                    f"{v.scope}:{v.scope_detail}",
                    v.profile,
                    v.redaction,
                    v.last_fetched_at,
                ]
                for v in views
            ],
        )
    return 0


def _show(ctx: CommandContext, args: argparse.Namespace) -> int:
    with ctx.unit_of_work(read_only=True) as uow:
        view = feeds.get_feed(uow, args.id)
        tokens = feeds.current_tokens(uow, args.id, secret=ctx.settings.secret_key)
    _print_feed(ctx, view, tokens, args.json)
    return 0


def _rotate(ctx: CommandContext, args: argparse.Namespace) -> int:
    with ctx.unit_of_work() as uow:
        token = feeds.rotate(
            uow, args.id, secret=ctx.settings.secret_key, grace=dt.timedelta(hours=args.grace)
        )
        view = feeds.get_feed(uow, args.id)
    _print_feed(ctx, view, [token], args.json)
    return 0


def _revoke(ctx: CommandContext, args: argparse.Namespace) -> int:
    with ctx.unit_of_work() as uow:
        feeds.revoke(uow, args.id)
    print(f"feed {args.id} revoked: its links answer 404")
    return 0


def _delete(ctx: CommandContext, args: argparse.Namespace) -> int:
    with ctx.unit_of_work() as uow:
        feeds.delete_feed(uow, args.id)
    print(f"feed {args.id} deleted")
    return 0


def _print_feed(
    ctx: CommandContext, view: feeds.FeedView, tokens: list[str], as_json: bool
) -> None:
    urls = [links(ctx.settings.feeds.public_url, t) for t in tokens]
    if as_json:
        print_json({"feed": view, "links": urls})
        return
    print(
        f"feed {view.id}: {view.name} (owner {view.owner}, {view.scope}:{view.scope_detail}, "
        f"{view.profile}, {view.redaction})"
    )
    for url in urls:
        print(f"  https:  {url['https']}\n  webcal: {url['webcal']}\n  Google: {url['google']}")
    if not urls:
        print("  no working link: run `hermes-groupware feed rotate ID` for a new one")
