"""``serve``: runs every service that exists, until SIGTERM or Ctrl-C."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from types import FrameType

from hermes_groupware.cli.context import CommandContext

log = logging.getLogger(__name__)


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the command."""
    serve = commands.add_parser("serve", help="run the server until SIGTERM")
    serve.set_defaults(handler=_serve)


def _serve(ctx: CommandContext, _args: argparse.Namespace) -> int:
    engine = ctx.current_database.engine
    stop = threading.Event()

    def _request_stop(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s, stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, _request_stop)
    signal.signal(signal.SIGINT, _request_stop)
    # The CalDAV, feed, mail and scheduler roles join here as their issues land.
    log.info("Hermes Groupware serving %s (no network roles yet)", engine.url.render_as_string())
    print("ready", flush=True)
    stop.wait()
    engine.dispose()
    log.info("stopped cleanly")
    return 0
