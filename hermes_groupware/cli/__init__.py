"""``hermes-groupware``: the admin command line; one module per command group.

Exit codes: 0 success, 2 usage, configuration or invalid input, 3 not found,
4 permission denied, 5 conflict (someone else changed it), 75 database unavailable (retry).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import Any

from hermes_groupware import __version__, logs
from hermes_groupware.cli import (
    audit,
    backup,
    customers,
    db,
    employees,
    feeds,
    mail,
    registers,
    rules,
    schedules,
    serve,
    tasks,
    tokens,
    views,
)
from hermes_groupware.cli.context import CommandContext
from hermes_groupware.db.outage import DATABASE_UNAVAILABLE
from hermes_groupware.errors import (
    ConfigError,
    Conflict,
    HermesError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    SchemaOutdated,
)

EXIT_CODES: dict[type[HermesError], int] = {
    ConfigError: 2,
    InvalidInput: 2,
    SchemaOutdated: 2,
    NotFound: 3,
    PermissionDenied: 4,
    Conflict: 5,
}
EX_TEMPFAIL = 75
_GROUPS = (
    db,
    backup,
    employees,
    registers,
    customers,
    tasks,
    views,
    feeds,
    mail,
    rules,
    schedules,
    serve,
    tokens,
    audit,
)


class _Parser(argparse.ArgumentParser):
    """No abbreviated options anywhere: ``task list --as LOGIN`` must not be read as
    ``--assignee`` (sub-commands are built with the parser's own class)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["allow_abbrev"] = False
        super().__init__(*args, **kwargs)


def build_parser() -> argparse.ArgumentParser:
    """The whole command tree."""
    parser = _Parser(
        prog="hermes-groupware",
        description="Hermes Groupware: HermesSQL CRM tasks in calendars, feeds and e-mail.",
        epilog=(
            "Configuration: --config PATH, else $HERMES_CONFIG, else ./config.toml; any key can "
            "be overridden by HERMES_<SECTION>_<KEY>. Exit codes: 0 ok, 2 usage/config/invalid "
            "input, 3 not found, 4 permission denied, 5 conflict, 75 database unavailable."
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--config", metavar="PATH", help="configuration file")
    parser.add_argument(
        "--as",
        dest="as_login",
        metavar="LOGIN",
        help="act as this employee, with their rights (default: administrator)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for group in _GROUPS:
        group.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    args = build_parser().parse_args(argv)
    context = CommandContext(args)
    try:
        logs.configure(context.settings.logging)  # text or JSON lines, with request ids
        logging.getLogger("alembic").setLevel(logging.WARNING)  # `db upgrade` reports itself
        if context.settings.logging.level.upper() != "DEBUG":  # a line per PDF page and step
            for chatty in ("weasyprint", "fontTools"):
                logging.getLogger(chatty).setLevel(logging.WARNING)
        return int(args.handler(context, args) or 0)
    except HermesError as exc:
        print(f"hermes-groupware: {exc.message}", file=sys.stderr)
        return next((code for cls, code in EXIT_CODES.items() if isinstance(exc, cls)), 1)
    except DATABASE_UNAVAILABLE as exc:
        reason = getattr(exc, "orig", None) or exc
        print(f"hermes-groupware: database unavailable: {reason}", file=sys.stderr)
        return EX_TEMPFAIL
    except BrokenPipeError:  # output piped into head(1) and the like
        sys.stderr.close()
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
