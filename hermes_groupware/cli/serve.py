"""``serve``: CalDAV and feeds over HTTP, the enabled mail roles and the report scheduler, until
SIGTERM or Ctrl-C."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from types import FrameType

from waitress.server import create_server

from hermes_groupware.bootstrap import database_from_settings
from hermes_groupware.cli.context import CommandContext
from hermes_groupware.cli.output import progress
from hermes_groupware.db.session import Actor
from hermes_groupware.http.app import create_app
from hermes_groupware.models.enums import Source
from mail_gateway.service import MailService
from sync import projection

log = logging.getLogger(__name__)


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the command."""
    serve = commands.add_parser(
        "serve",
        help="run the server (CalDAV, feeds, enabled mail roles, scheduled reports) until SIGTERM",
    )
    serve.add_argument("--threads", type=int, default=8, help="HTTP worker threads (8)")
    serve.set_defaults(handler=_serve)


def _serve(ctx: CommandContext, args: argparse.Namespace) -> int:
    database = ctx.current_database  # checks the schema first
    current = False
    while not current:  # in short transactions, so a big backlog never holds a long lock
        with database.unit_of_work(Actor.system("serve"), Source.SYSTEM) as uow:
            if not projection.is_behind(uow.session):
                break
            progress("bringing calendars up to date with the change journal…")
            current = projection.catch_up(uow.session, uow.now(), max_entries=2000)
    database.engine.dispose()  # the application opens its own engine
    settings = ctx.settings
    server = create_server(
        create_app(settings),
        host=settings.http.host,
        port=settings.http.port,
        threads=args.threads,
        ident="Hermes Groupware",
        channel_timeout=120,
        max_request_body_size=settings.caldav.max_body_bytes,
    )
    stop = threading.Event()

    def _request_stop(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s, stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, _request_stop)
    signal.signal(signal.SIGINT, _request_stop)
    worker = threading.Thread(target=server.run, name="http", daemon=True)
    worker.start()
    background = database_from_settings(settings)
    mail = MailService(settings, background)
    roles = mail.start()
    report_service = None
    if settings.reports.enabled:
        from reports.service import ReportService  # noqa: PLC0415 - charts and PDF load here

        logging.getLogger("apscheduler").setLevel(logging.WARNING)  # two lines a tick is noise
        report_service = ReportService(settings, background)
        roles.append(report_service.start())
    url = f"http://{settings.http.host}:{settings.http.port}/"
    log.info("Hermes Groupware: CalDAV at %s; also running: %s", url, ", ".join(roles) or "-")
    print(" ".join(["ready", url, *roles]), flush=True)
    stop.wait()
    server.close()
    if report_service is not None:
        report_service.stop()
    mail.stop()
    log.info("stopped cleanly")
    return 0
