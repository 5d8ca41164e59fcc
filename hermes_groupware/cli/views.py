"""``view add|list|show|update|delete|rows|export``: saved views (named task filters), exports.

Whoever runs or exports a view sees only the tasks they may see (``--as LOGIN`` to act as an
employee); relative dates are resolved in their time zone.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import textwrap
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hermes_groupware.cli.context import CommandContext
from hermes_groupware.cli.output import print_json, print_table
from hermes_groupware.db.session import UnitOfWork
from hermes_groupware.errors import InvalidInput
from hermes_groupware.models import Employee
from hermes_groupware.models.enums import (
    Locale,
    Priority,
    ReportFormat,
    TaskStatus,
    ViewAudience,
)
from hermes_groupware.services import saved_views
from hermes_groupware.services.saved_views import ViewInfo, ViewRows
from hermes_groupware.services.view_filter import FILTER_KEYS
from hermes_groupware.services.view_rows import COLUMNS
from reports import view_report
from reports.scope import reader_context

_PREVIEW_ROWS = 10
_EXAMPLES = f"""examples:
  hermes-groupware view add "Zaległe reklamacje" --owner admin --register REK --overdue \\
      --columns number,subject,due,responsible,field:numer_partii --sort due
  hermes-groupware --as jkowalski view add "Mój tydzień" --assignee jkowalski \\
      --due-from today --due-to +7 --audience groups --share-with sprzedaz
  hermes-groupware view add "Duże szanse" --owner admin --register HAN --text przetarg \\
      --columns number,subject,customer,opportunity_value --sort=-opportunity_value

Dates: YYYY-MM-DD, "today", or +N / -N days from today (in the viewer's time zone), so a view
stays useful over time. Without --status only open tasks are shown (--include-closed: all).
{textwrap.fill("Columns: " + ", ".join(COLUMNS) + ", field:KEY (a custom field).", 92)}
Sort: any column but field:KEY; "-" sorts descending, so write it with "=": --sort=-due,number.
"""


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the commands."""
    view = commands.add_parser(
        "view", help="saved views: named task filters, their rows and exports"
    ).add_subparsers(dest="view_command", metavar="ACTION", required=True)
    add = view.add_parser(
        "add",
        help="save a view",
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add.add_argument("name")
    _options(add)
    add.set_defaults(handler=_add)

    update = view.add_parser(
        "update",
        help="change a view (filters given replace those keys)",
        epilog='example:\n  hermes-groupware view update "Mój tydzień" --due-to +14 '
        "--unset group --sort=-due",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    update.add_argument("name")
    update.add_argument("--rename", metavar="NEW_NAME")
    update.add_argument(
        "--unset",
        action="append",
        default=[],
        choices=FILTER_KEYS,
        metavar="KEY",
        help="remove a filter (repeatable): " + ", ".join(FILTER_KEYS),
    )
    _options(update)
    update.set_defaults(handler=_update)

    listing = view.add_parser("list", help="the views you may use")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=_list)

    show = view.add_parser("show", help="a view's definition and its first rows")
    show.add_argument("name")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=_show)

    delete = view.add_parser("delete", help="delete a view (not while a feed or schedule uses it)")
    delete.add_argument("name")
    delete.set_defaults(handler=_delete)

    rows = view.add_parser("rows", help="the view's rows as a table")
    rows.add_argument("name")
    rows.add_argument("--limit", type=int, metavar="N")
    rows.add_argument("--json", action="store_true")
    rows.set_defaults(handler=_rows)

    export = view.add_parser(
        "export",
        help="the view as a CSV, XLSX, PDF or HTML file",
        epilog="examples:\n"
        '  hermes-groupware view export "Zaległe reklamacje" --format xlsx\n'
        '  hermes-groupware --as anowak view export "Mój tydzień" --format pdf -o tydzien.pdf\n'
        '  hermes-groupware view export "Zaległe reklamacje" --format csv -o - | head',
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    export.add_argument("name")
    export.add_argument("--format", required=True, choices=[f.value for f in ReportFormat])
    export.add_argument(
        "--output",
        "-o",
        metavar="FILE",
        help="where to write ('-': standard output; default: a dated file name here)",
    )
    export.add_argument("--locale", choices=[loc.value for loc in Locale], help="default: yours")
    export.add_argument("--limit", type=int, metavar="N", help="at most N rows")
    export.set_defaults(handler=_export)


def _options(parser: argparse.ArgumentParser) -> None:
    what = parser.add_argument_group("filters (all given must hold)")
    what.add_argument("--register", action="append", default=[], metavar="CODE")
    what.add_argument(
        "--status", action="append", default=[], choices=[s.value for s in TaskStatus]
    )
    what.add_argument(
        "--priority", action="append", default=[], choices=[p.value for p in Priority]
    )
    what.add_argument("--assignee", metavar="LOGIN", help="the responsible employee")
    what.add_argument("--group", metavar="SLUG", help="the responsible employee is a member")
    what.add_argument("--customer", type=int, metavar="ID")
    what.add_argument(
        "--overdue",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="only overdue tasks (--no-overdue: only tasks that are not)",
    )
    for bound in ("due-from", "due-to", "created-from", "created-to"):
        what.add_argument(f"--{bound}", metavar="DATE", help="YYYY-MM-DD, today, +N or -N")
    what.add_argument(
        "--field", action="append", default=[], metavar="KEY=VALUE", help="a custom field value"
    )
    what.add_argument("--text", help="part of the subject, keywords or number (any case)")
    what.add_argument(
        "--include-closed",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="also done and cancelled tasks",
    )
    parser.add_argument("--columns", metavar="A,B,C", help="what the rows show, in order")
    parser.add_argument(
        "--sort", metavar="KEYS", help="sort keys, '-' for descending: --sort=-due,number"
    )
    parser.add_argument("--audience", choices=[a.value for a in ViewAudience])
    parser.add_argument(
        "--share-with",
        action="append",
        default=[],
        metavar="GROUP",
        help="with --audience groups (repeatable)",
    )
    parser.add_argument("--owner", metavar="LOGIN", help="admins: save it for this employee")
    parser.add_argument("--description")
    parser.add_argument("--json", action="store_true")


def _definition(args: argparse.Namespace) -> dict[str, Any]:
    """The filters given on the command line, as definition keys."""
    given: dict[str, Any] = {
        "registers": args.register,
        "statuses": args.status,
        "priorities": args.priority,
        "assignee": args.assignee,
        "group": args.group,
        "customer_id": args.customer,
        "overdue": args.overdue,
        "due_from": args.due_from,
        "due_to": args.due_to,
        "created_from": args.created_from,
        "created_to": args.created_to,
        "fields": _pairs(args.field),
        "text": args.text,
        "include_closed": args.include_closed,
    }
    return {key: value for key, value in given.items() if value not in (None, [], {})}


def _pairs(values: list[str]) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for text in values:
        key, equals, value = text.partition("=")
        if not equals or not key.strip():
            raise InvalidInput("--field", f"expected KEY=VALUE, got {text!r}")
        pairs[key.strip()] = value
    return pairs


def _words(text: str | None) -> list[str] | None:
    return None if text is None else [w.strip() for w in text.split(",") if w.strip()]


def _add(ctx: CommandContext, args: argparse.Namespace) -> int:
    with ctx.unit_of_work() as uow:
        info = saved_views.create_view(
            uow,
            name=args.name,
            definition=_definition(args),
            columns=_words(args.columns) or (),
            sort=_words(args.sort) or (),
            audience=ViewAudience(args.audience or ViewAudience.PRIVATE),
            groups=args.share_with,
            description=args.description or "",
            owner=args.owner,
        )
    _print_saved(info, "saved", args.json)
    return 0


def _update(ctx: CommandContext, args: argparse.Namespace) -> int:
    with ctx.unit_of_work() as uow:
        current = saved_views.get_view(uow, args.name)
        definition = {k: v for k, v in current.definition.items() if k not in args.unset}
        given = _definition(args)
        if "fields" in given and "fields" in definition:
            given["fields"] = {**definition["fields"], **given["fields"]}
        changed = args.unset or given
        info = saved_views.update_view(
            uow,
            args.name,
            new_name=args.rename,
            definition=definition | given if changed else None,
            columns=_words(args.columns),
            sort=_words(args.sort),
            audience=ViewAudience(args.audience) if args.audience else None,
            groups=args.share_with or None,
            description=args.description,
            owner=args.owner,
        )
    _print_saved(info, "updated", args.json)
    return 0


def _print_saved(info: ViewInfo, verb: str, as_json: bool) -> None:
    if as_json:
        print_json(info)
        return
    print(
        f"{verb} view {info.name!r} (owner {info.owner}, {_audience(info)}, version {info.version})"
    )


def _audience(info: ViewInfo) -> str:
    return f"groups: {', '.join(info.groups)}" if info.groups else info.audience


def _list(ctx: CommandContext, args: argparse.Namespace) -> int:
    with ctx.unit_of_work(read_only=True) as uow:
        views = saved_views.list_views(uow)
    if args.json:
        print_json(views)
        return 0
    print_table(
        ["name", "owner", "audience", "description"],
        [[v.name, v.owner, _audience(v), v.description[:50]] for v in views],
    )
    return 0


def _show(ctx: CommandContext, args: argparse.Namespace) -> int:
    with ctx.unit_of_work(read_only=True) as uow:
        info = saved_views.get_view(uow, args.name)
        zone = _reader(ctx, uow)[1]
        preview = saved_views.run_view(uow, args.name, limit=_PREVIEW_ROWS, zone=zone)
    if args.json:
        print_json({"view": info, "preview": preview})
        return 0
    print(f"{info.name}" + (f" – {info.description}" if info.description else ""))
    print(f"  owner {info.owner}, {_audience(info)}, version {info.version}")
    for key, value in info.definition.items() or [("filters", "none (every open task)")]:
        print(f"  {key}: {value}")
    print(f"  columns: {', '.join(info.columns)}\n  sort: {', '.join(info.sort)}")
    print(f"\nfirst {len(preview.rows)} of {preview.total} row(s):")
    _print_rows(preview, zone)
    return 0


def _delete(ctx: CommandContext, args: argparse.Namespace) -> int:
    with ctx.unit_of_work() as uow:
        saved_views.delete_view(uow, args.name)
    print(f"deleted view {args.name!r}")
    return 0


def _rows(ctx: CommandContext, args: argparse.Namespace) -> int:
    with ctx.unit_of_work(read_only=True) as uow:
        zone = _reader(ctx, uow)[1]
        result = saved_views.run_view(uow, args.name, limit=args.limit, zone=zone)
    if args.json:
        print_json(result)
        return 0
    _print_rows(result, zone)
    if len(result.rows) < result.total:
        print(f"({len(result.rows)} of {result.total} rows)")
    return 0


def _print_rows(result: ViewRows, zone: ZoneInfo) -> None:
    """The view's columns; a last "overdue" column marks overdue rows if the view has none."""
    marker = "overdue" not in result.columns
    headers = result.columns + (["overdue"] if marker else [])
    print_table(
        headers,
        [
            [_cell(row.values[c], zone) for c in result.columns]
            + (["OVERDUE" if row.overdue else ""] if marker else [])
            for row in result.rows
        ],
    )


def _cell(value: Any, zone: ZoneInfo) -> Any:
    if isinstance(value, dt.datetime):
        return f"{value.astimezone(zone):%Y-%m-%d %H:%M}"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str) and len(value) > 60:
        return value[:59] + "…"
    return value


def _reader(ctx: CommandContext, uow: UnitOfWork) -> tuple[Locale, ZoneInfo]:
    """The acting employee's language and zone; the configured defaults for the admin CLI."""
    if uow.actor.employee_id is None:
        server = ctx.settings.server
        return Locale(server.default_locale), ZoneInfo(server.default_time_zone)
    employee = uow.session.get_one(Employee, uow.actor.employee_id)
    return Locale(employee.locale), ZoneInfo(employee.time_zone)


def _export(ctx: CommandContext, args: argparse.Namespace) -> int:
    params = view_report.check_params({"view": args.name, "limit": args.limit})
    with ctx.unit_of_work(read_only=True) as uow:
        locale, zone = _reader(ctx, uow)
        reader = reader_context(
            uow, locale=Locale(args.locale) if args.locale else locale, zone=zone, params=params
        )
        result = view_report.build(reader)
    # the formats load WeasyPrint and matplotlib (a second); no other command needs them
    from reports import formats  # noqa: PLC0415

    attachment = formats.export(result, ReportFormat(args.format))
    if args.output == "-":
        sys.stdout.buffer.write(attachment.data)
        sys.stdout.buffer.flush()
        return 0
    path = Path(args.output or attachment.filename)
    path.write_bytes(attachment.data)
    print(path.resolve())
    return 0
