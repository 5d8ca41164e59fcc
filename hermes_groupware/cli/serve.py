"""``serve``: the roles of this instance (CalDAV and feeds over HTTP, the mail listener and
poller, the background worker, the report scheduler) until SIGTERM or Ctrl-C.

Which roles run is decided in :mod:`hermes_groupware.cli.roles`; the first line on stdout is
``ready`` followed by a word per running role (the HTTP URL, the listener and mailbox URLs,
``worker``, ``reports``), for scripts and tests that wait for it.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from types import FrameType

from hermes_groupware.cli.context import CommandContext
from hermes_groupware.cli.output import progress
from hermes_groupware.cli.roles import RunningRoles, parse_roles, plan_roles
from hermes_groupware.config import SERVER_ROLES
from hermes_groupware.db.session import Actor, Database
from hermes_groupware.models.enums import Source
from sync import projection

log = logging.getLogger(__name__)


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the command."""
    serve = commands.add_parser(
        "serve",
        help="run this instance's roles (CalDAV, mail, worker, scheduled reports) until SIGTERM",
        description=(
            f"Roles: {', '.join(SERVER_ROLES)}. Without --roles, [server] roles of the "
            "configuration decides (default: all). Example: serve --roles http,worker"
        ),
    )
    serve.add_argument("--threads", type=int, default=8, help="HTTP worker threads (8)")
    serve.add_argument(
        "--roles",
        type=parse_roles,
        default=None,
        metavar="ROLE,…",
        help=f"comma-separated, out of {','.join(SERVER_ROLES)} (overrides [server] roles)",
    )
    serve.set_defaults(handler=_serve)


def _serve(ctx: CommandContext, args: argparse.Namespace) -> int:
    settings = ctx.settings
    plan = plan_roles(settings, args.roles)
    database = ctx.current_database  # checks the schema first
    if "http" in plan.run:
        _catch_up_calendars(database)
    database.engine.dispose()  # every role opens its own engine
    roles = RunningRoles(settings, plan, threads=args.threads)
    stop = threading.Event()

    def _request_stop(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s, stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, _request_stop)
    signal.signal(signal.SIGINT, _request_stop)
    roles.start()
    print(" ".join(["ready", *roles.words]), flush=True)
    stop.wait()
    roles.stop()
    log.info("stopped cleanly")
    return 0


def _catch_up_calendars(database: Database) -> None:
    """Before listening: in short transactions, so a big backlog never holds a long lock."""
    with database.unit_of_work(Actor.system("serve"), Source.SYSTEM, read_only=True) as uow:
        if not projection.is_behind(uow.session):
            return
    progress("bringing calendars up to date with the change journal…")
    projection.catch_up_in_steps(database, Actor.system("serve"), max_entries=2000)
